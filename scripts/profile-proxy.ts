/**
 * npm run profile:proxy — a CPU profile of our Worker while it proxies chat completions.
 *
 * Starts the simulated model (0 ms latency) and our Worker under `wrangler dev`, sets up an agent with a
 * library, then drives --requests requests (json or --stream) at --concurrency through the endpoint while
 * the V8 profiler of the Worker's isolate runs (Chrome DevTools protocol on the inspector port). Prints
 * the top functions by self time and writes the .cpuprofile (open it in Chrome DevTools) to --out.
 * `--target passthrough` profiles the bare pass-through Worker (bench/passthrough-worker) the same way,
 * for a side-by-side of what our endpoint adds.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startCpuProfile, summarizeProfile } from "./lib/cpuProfile";
import { startSimProcess } from "./lib/simProcess";
import { startWranglerDev } from "./lib/wranglerDev";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    stream: { type: "boolean", default: false },
    out: { type: "string", default: "proxy.cpuprofile" },
    top: { type: "string", default: "40" },
    target: { type: "string", default: "ours" },
  },
});
const ADMIN_TOKEN = "profile-admin-token";

async function main() {
  if (values.target !== "ours" && values.target !== "passthrough") throw new Error("--target must be 'ours' or 'passthrough'");
  const sim = await startSimProcess();
  const dev =
    values.target === "ours"
      ? await startWranglerDev({ vars: { ADMIN_TOKEN, ENCRYPTION_KEY: "profile-encryption-key" }, inspector: true })
      : await startWranglerDev({
          cwd: resolve(import.meta.dirname, "../bench/passthrough-worker"),
          migrateBinding: null,
          vars: { UPSTREAM: sim.url },
          inspector: true,
        });
  try {
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${dev.url}/api${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
      return (await res.json()) as Record<string, unknown>;
    };
    let key = "none";
    if (values.target === "ours") {
      await admin("POST", "/agents", { name: "profile", upstream: { baseUrl: sim.url, model: "sim-1", apiKey: "sk-profile" } });
      key = String((await admin("POST", "/agents/profile/keys", {})).key);
    }
    const send = async (i: number) => {
      const res = await fetch(`${dev.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "sim-1",
          seed: i % 64,
          messages: [
            { role: "system", content: "Answer briefly." },
            { role: "user", content: `What is ${i % 97} + 3?` },
          ],
          ...(values.stream ? { stream: true } : {}),
        }),
      });
      await res.arrayBuffer();
    };
    const drive = async (n: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: Number(values.concurrency) }, async () => {
          while (next < n) await send(next++);
        }),
      );
    };
    await drive(200);

    if (dev.inspectorPort === null) throw new Error("wrangler dev was started without an inspector");
    const profiler = await startCpuProfile(dev.inspectorPort);
    const t0 = performance.now();
    await drive(Number(values.requests));
    const wall = performance.now() - t0;
    const profile = await profiler.stop();
    writeFileSync(values.out, JSON.stringify(profile));
    const n = Number(values.requests);
    const { busyMs, functions } = summarizeProfile(profile);
    console.log(
      `${n} requests in ${wall.toFixed(0)} ms (${((n / wall) * 1000).toFixed(0)} req/s); isolate busy ${(busyMs / n).toFixed(3)} ms per request (profiler overhead included)`,
    );
    for (const f of functions.slice(0, Number(values.top))) console.log(`${(f.ms / n).toFixed(4).padStart(8)} ms/req  ${f.name}`);
  } finally {
    await sim.stop();
    await dev.stop();
  }
}

await main();
