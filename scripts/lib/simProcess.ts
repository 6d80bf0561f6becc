/**
 * The standalone simulated model in a process of its own (so that serving it does not compete with the
 * load generator's event loop), on a free loopback port; `stop()` ends it.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { freePort } from "./wranglerDev";

const ROOT = resolve(import.meta.dirname, "../..");

export async function startSimProcess(options: { latencyMs?: number } = {}): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn("npx", ["tsx", "scripts/sim.ts", "--port", String(port), "--latency-ms", String(options.latencyMs ?? 0)], {
    cwd: ROOT,
    detached: true,
    stdio: "ignore",
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = `http://127.0.0.1:${port}/v1`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/models`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    stop: async () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      await exited;
    },
  };
}
