import { describe, expect, it } from "vitest";
import { Admission } from "../../../src/server/admission.js";

/** After the event loop's next poll for I/O: when a request admitted from the waiting goes on. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** An admission whose clock and event loop utilization the test sets. */
function admission() {
  const state = { now: 0, utilization: 0, recent: 0 };
  const gate = new Admission({
    timer: false,
    now: () => state.now,
    utilization: () => state.utilization,
    recentUtilization: () => state.recent,
  });
  /** A second of samples at this utilization (four of 250 ms). */
  const second = (utilization: number) => {
    state.utilization = utilization;
    for (let i = 0; i < 4; i++) {
      state.now += 250;
      gate.sample();
    }
  };
  return { gate, state, second };
}

/** Makes `org` heavy: four requests under way for two seconds. */
function fill(gate: Admission, org: string) {
  for (let i = 0; i < 4; i++) expect(gate.enter(org)).toBeUndefined();
}

/**
 * The victim's request of 10 ms, then the loop busy and the attacker's requests of 5 ms back to back
 * until one is followed by a pause: the milliseconds that took.
 */
function contend(gate: Admission, state: { now: number; recent: number }): number {
  const start = state.now;
  expect(gate.enter("victim")).toBeUndefined();
  state.now += 10;
  gate.leave("victim", 10);
  state.recent = 1;
  for (let i = 0; i < 40; i++) {
    expect(gate.enter("attacker")).toBeUndefined();
    state.now += 5;
    gate.leave("attacker", 5);
    if (gate.of("attacker").inFlight === 1) return state.now - start;
  }
  throw new Error("the attacker never paused");
}

describe("admission", () => {
  it("admits everything at once while the server keeps up, however many requests one organization has under way", () => {
    const { gate, second } = admission();
    for (let i = 0; i < 50; i++) expect(gate.enter("a")).toBeUndefined();
    second(0.5);
    second(0.5);
    expect(gate.isOverloaded).toBe(false);
    expect(gate.enter("a")).toBeUndefined();
    expect(gate.enter("b")).toBeUndefined();
  });

  it("holds, under a sustained overload, the organization filling the server to one request at a time, and lets the others in at once", async () => {
    const { gate, state, second } = admission();
    fill(gate, "attacker");
    // Another organization's request of 100 ms: it is using the server too.
    expect(gate.enter("victim")).toBeUndefined();
    state.now += 100;
    gate.leave("victim");
    // A short burst is no overload: the average of a whole second counts.
    state.utilization = 1;
    state.now += 250;
    gate.sample();
    expect(gate.isOverloaded).toBe(false);
    second(1);
    expect(gate.isOverloaded).toBe(true);
    const waiting = gate.enter("attacker");
    expect(waiting).toBeInstanceOf(Promise);
    expect(gate.waiting).toBe(1);
    expect(gate.enter("victim")).toBeUndefined();
    let admitted = false;
    void waiting?.then(() => (admitted = true));
    // Its four under way end; the one waiting goes once it is below one under way.
    for (let i = 0; i < 3; i++) gate.leave("attacker");
    await nextTurn();
    expect(admitted).toBe(false);
    gate.leave("attacker");
    await nextTurn();
    expect(admitted).toBe(true);
    expect(gate.waiting).toBe(0);
  });

  it("pauses a held organization after each request as long as the request took", async () => {
    const { gate, second } = admission();
    fill(gate, "attacker");
    gate.enter("victim");
    second(1);
    second(1);
    const next = gate.enter("attacker");
    for (let i = 0; i < 3; i++) gate.leave("attacker");
    const started = performance.now();
    gate.leave("attacker", 60);
    await next;
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
  });

  it("never holds an organization that is alone on the server", () => {
    const { gate, second } = admission();
    fill(gate, "alone");
    second(1);
    second(1);
    expect(gate.isOverloaded).toBe(true);
    expect(gate.enter("alone")).toBeUndefined();
  });

  it("lets the waiting go once the overload is over, and a request whose client gave up at once", async () => {
    const { gate, second } = admission();
    fill(gate, "attacker");
    gate.enter("victim");
    second(1);
    second(1);
    const controller = new AbortController();
    const givenUp = gate.enter("attacker", controller.signal);
    const waiting = gate.enter("attacker");
    controller.abort();
    await givenUp;
    expect(gate.waiting).toBe(1);
    // One that gave up before it asked does not wait either.
    expect(gate.enter("attacker", AbortSignal.abort())).toBeUndefined();
    expect(gate.waiting).toBe(1);
    gate.leave("attacker");
    // Under 40%: no longer overloaded, but the organization held stays held while the loop is 20% busy or more…
    second(0.3);
    expect(gate.isOverloaded).toBe(false);
    expect(gate.waiting).toBe(1);
    // …and is let go once it is quiet.
    second(0.1);
    await waiting;
    expect(gate.waiting).toBe(0);
  });

  it("holds an organization of many short requests, one under way most of the time and never two", () => {
    const { gate, state, second } = admission();
    second(1);
    second(1);
    expect(gate.isOverloaded).toBe(true);
    // A request of 7 ms every 10 ms, each sent once the previous one is answered; the other
    // organization's, of 1 ms, every 100 ms.
    let held = false;
    for (let i = 0; i < 300 && !held; i++) {
      if (i % 10 === 0) {
        expect(gate.enter("victim")).toBeUndefined();
        state.now += 1;
        gate.leave("victim", 1);
      }
      const wait = gate.enter("short");
      if (wait) held = true;
      else {
        state.now += 7;
        gate.leave("short", 7);
        state.now += 3;
      }
    }
    expect(held).toBe(true);
    expect(gate.enter("victim")).toBeUndefined();
  });

  it("does not hold an organization slowed down by another that asks more than twice as much", () => {
    const { gate, second } = admission();
    fill(gate, "attacker");
    // The victim's requests, slowed down, are under way all the time too.
    expect(gate.enter("victim")).toBeUndefined();
    second(1);
    second(1);
    expect(gate.enter("victim")).toBeUndefined();
    expect(gate.enter("attacker")).toBeInstanceOf(Promise);
  });

  it("lengthens a held organization's pauses while the server stays busy, and shortens them back once it is less so", () => {
    const { gate, second } = admission();
    fill(gate, "attacker");
    gate.enter("victim");
    second(1);
    second(1);
    expect(gate.of("attacker").pauseFactor).toBeGreaterThan(4);
    // Still overloaded (above 0.4), but well under 0.6: back to pauses as long as the requests.
    for (let i = 0; i < 3; i++) second(0.45);
    expect(gate.isOverloaded).toBe(true);
    expect(gate.of("attacker").pauseFactor).toBe(1);
  });

  it("from the loop's first busy tens of milliseconds, runs an organization that takes most of them one at a time, each request followed by a pause as long as it took", async () => {
    const { gate, state } = admission();
    const pausing = contend(gate, state);
    // The pause began with contend's last request: timed from here, not after the checks below (a
    // loaded machine spent over 4 ms on them once).
    const started = performance.now();
    expect(pausing).toBeLessThanOrEqual(100);
    expect(gate.isOverloaded).toBe(false);
    // While it pauses, its next request waits; the victim's goes at once.
    const next = gate.enter("attacker");
    expect(next).toBeInstanceOf(Promise);
    expect(gate.enter("victim")).toBeUndefined();
    gate.leave("victim", 1);
    await next;
    expect(performance.now() - started).toBeGreaterThanOrEqual(4);
    // Once the loop is no longer busy: no pause, and all at once again.
    state.recent = 0.3;
    state.now += 50;
    gate.leave("attacker", 5);
    expect(gate.of("attacker").inFlight).toBe(0);
    expect(gate.enter("attacker")).toBeUndefined();
    expect(gate.enter("attacker")).toBeUndefined();
  });

  it("does not make an organization contend while it is alone, nor while the loop is not busy", () => {
    /** The attacker's requests of 5 ms back to back: each admitted at once and followed by no pause. */
    const neverPaused = ({ gate, state }: ReturnType<typeof admission>) => {
      for (let i = 0; i < 40; i++) {
        expect(gate.enter("attacker")).toBeUndefined();
        state.now += 5;
        gate.leave("attacker", 5);
        expect(gate.of("attacker").inFlight).toBe(0);
      }
    };
    const alone = admission();
    alone.state.recent = 1;
    neverPaused(alone);
    const quiet = admission();
    expect(quiet.gate.enter("victim")).toBeUndefined();
    quiet.state.now += 10;
    quiet.gate.leave("victim", 10);
    quiet.state.recent = 0.7;
    neverPaused(quiet);
  });

  it("counts once a request that gives up after it was admitted, before its turn came", async () => {
    const { gate, state } = admission();
    contend(gate, state);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(gate.of("attacker").inFlight).toBe(0);
    expect(gate.enter("attacker")).toBeUndefined();
    const controller = new AbortController();
    const second = gate.enter("attacker", controller.signal);
    expect(second).toBeInstanceOf(Promise);
    gate.leave("attacker");
    controller.abort();
    await second;
    expect(gate.of("attacker")).toMatchObject({ inFlight: 1, waiting: 0 });
    gate.leave("attacker");
    expect(gate.of("attacker").inFlight).toBe(0);
  });
});
