/**
 * CPU profiles of this process during a bench's load (node:inspector), summarized by self time: by
 * place (our source files, packages, node's internals, GC) and by function, per request.
 */
import { Session } from "node:inspector/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Runs `run` under the sampling profiler (100 µs interval) and returns its result with the profile. */
export async function profiled<T>(run: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    const result = await run();
    const { profile } = await session.post("Profiler.stop");
    return { result, profile: profile as unknown as CpuProfile };
  } finally {
    session.disconnect();
  }
}

/** Self time by place: our source files by name, packages by name, node's own internals, GC and idle. */
export function summarizeProfile(profile: CpuProfile, requests: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const functions = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    const micros = profile.timeDeltas[i] ?? 0;
    const { url, functionName, lineNumber } = node.callFrame;
    const place = url.includes("/node_modules/")
      ? `package ${url
          .split("/node_modules/")
          .pop()!
          .split("/")
          .slice(0, url.split("/node_modules/").pop()!.startsWith("@") ? 2 : 1)
          .join("/")}`
      : url.includes("/src/")
        ? `src/${url.split("/src/").pop()}`
        : url.startsWith("node:")
          ? "node internals"
          : functionName.startsWith("(")
            ? functionName
            : url
              ? "other"
              : "native";
    self.set(place, (self.get(place) ?? 0) + micros);
    const fn = `${functionName || "(anonymous)"} ${place}:${lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + micros);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([name, micros]) =>
          `${(micros / 1000 / requests).toFixed(3).padStart(7)} ms/req ${((micros / total) * 100).toFixed(1).padStart(5)}%  ${name}`,
      );
  return { places: top(self, 25), functions: top(functions, 30) };
}
