/**
 * `npm run profile:train`: a V8 CPU profile of the Worker's isolate (the Workflows' code, D1 client,
 * routes) while it runs one epoch of 100 sim-train samples × G=5 at 100 ms latency with 20 groups in
 * flight (bench:train's 100 ms row), under `wrangler dev` with its inspector. Prints the functions with
 * the most self time. Where our own work goes when the model is fast (docs/architecture.md §5).
 */
import { adminClient, isFinished, pollUntil } from "../cli/adminClient";
import { startCpuProfile, summarizeProfile } from "./lib/cpuProfile";
import { randomEncryptionKey, startWranglerDev } from "./lib/wranglerDev";
import { startSimServer } from "./simServer";

const TOKEN = "profile-admin-token";
const LATENCY_MS = Number(process.env.PROFILE_LATENCY_MS ?? 100);
const TOP = 30;

async function main(): Promise<void> {
  const dev = await startWranglerDev({ vars: { ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY: randomEncryptionKey() }, inspector: true });
  const sim = await startSimServer({ latencyMs: LATENCY_MS, jitterMs: LATENCY_MS * 0.1 });
  const admin = adminClient({ url: dev.url, token: TOKEN });
  try {
    if (dev.inspectorPort === null) throw new Error("wrangler dev was started without an inspector");
    await admin.post("/datasets/builtin/sim-train");
    await admin.post("/agents", {
      name: "profiled",
      upstream: { baseUrl: sim.url, model: "sim-1" },
      systemPrompt: "Solve the word problem step by step and give the final answer in \\boxed{}.",
      verifier: { kind: "math" },
    });
    const profiler = await startCpuProfile(dev.inspectorPort);
    const started = performance.now();
    const { id } = await admin.post<{ id: string }>("/runs", {
      agent: "profiled",
      dataset: "sim-train",
      epochs: 1,
      groupSize: 5,
      batchSize: 100,
      maxGroupsInFlight: 20,
      seed: 1,
    });
    const run = await pollUntil(
      () => admin.get<{ status: string }>(`/runs/${id}`),
      (r) => isFinished(r.status),
      undefined,
      200,
    );
    const wallMs = performance.now() - started;
    const summary = summarizeProfile(await profiler.stop());
    console.log(
      `run ${run.status} in ${(wallMs / 1000).toFixed(2)} s; the Worker's isolate was busy ${(summary.busyMs / 1000).toFixed(2)} s of it`,
    );
    for (const f of summary.functions.slice(0, TOP)) console.log(`${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  } finally {
    await sim.close();
    await dev.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
