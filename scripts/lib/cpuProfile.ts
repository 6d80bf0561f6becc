/**
 * V8 CPU profiles of a Worker under `wrangler dev`, taken over its inspector port (Chrome DevTools
 * protocol), and a self-time summary by function. Used by `npm run profile:proxy`.
 */
import WebSocket from "ws";

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number } };
export type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** Starts the profiler of the Worker's isolate; `stop()` returns the profile. */
export async function startCpuProfile(inspectorPort: number, intervalUs = 100): Promise<{ stop: () => Promise<CpuProfile> }> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const target = targets[0];
  if (!target) throw new Error("no inspector target");
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  let id = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  ws.on("message", (data: WebSocket.RawData) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  });
  await new Promise((r) => ws.once("open", r));
  const send = <T>(method: string, params: object = {}): Promise<T> => {
    const n = ++id;
    const reply = new Promise<T>((r) => waiting.set(n, r as (v: unknown) => void));
    ws.send(JSON.stringify({ id: n, method, params }));
    return reply;
  };
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: intervalUs });
  await send("Profiler.start");
  return {
    stop: async () => {
      const { profile } = await send<{ profile: CpuProfile }>("Profiler.stop");
      ws.close();
      return profile;
    },
  };
}

/** Self time per function (ms), busiest first, and the total time the isolate was not idle. */
export function summarizeProfile(profile: CpuProfile): { busyMs: number; functions: { name: string; ms: number }[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFn = new Map<string, number>();
  profile.samples.forEach((nodeId, i) => {
    const f = byId.get(nodeId)?.callFrame;
    if (!f) return;
    const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
    byFn.set(name, (byFn.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const functions = [...byFn].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  const busyMs = functions.filter((f) => !f.name.startsWith("(idle)")).reduce((a, f) => a + f.ms, 0);
  return { busyMs, functions };
}
