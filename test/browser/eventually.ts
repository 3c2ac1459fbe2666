import { expect } from "vitest";

/** Polls until the assertion holds: live events and page updates take their time on a busy CI machine. */
export const eventually = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout, interval: 50 });
