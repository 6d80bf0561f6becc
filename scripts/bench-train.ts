/**
 * `npm run bench:train`: one epoch of 100 sim-train samples × G=5 through a real `wrangler dev`
 * (Workflows, local D1) against the standalone simulated model, at 1 s ± 10% and 100 ms ± 10% latency.
 * Prints wall-clock, the critical-path lower bound (sequential LLM stages × mean latency), their ratio,
 * LLM calls, calls in flight at peak, and Workflow steps used.
 */
import { adminClient, isFinished, pollUntil } from "../cli/adminClient";
import { randomEncryptionKey, startWranglerDev } from "./lib/wranglerDev";
import { startSimServer } from "./simServer";

const TOKEN = "bench-admin-token";
const LATENCIES_MS = (process.env.BENCH_LATENCIES ?? "1000,100").split(",").map(Number);
const SAMPLES = 100;
/**
 * Groups in flight. Locally every Workflow instance shares one workerd process, and with hundreds of
 * outbound fetches pending at 1 s latency `wrangler dev` runs out of file descriptors (it opens
 * loopback sockets it does not close); production has no such shared process.
 */
const GROUPS_IN_FLIGHT = Number(process.env.BENCH_GROUPS_IN_FLIGHT ?? 20);

type RunView = {
  status: string;
  error: string | null;
  progress: {
    groupsDone: number;
    groupsTotal: number;
    steps: { run: number; segments: number; lanes: number; maxPerInstance: number } | null;
  };
  groups: { kept: number; skipped: number; dropped: number };
  llm: { stage: string; calls: number }[];
};

async function main(): Promise<void> {
  const dev = await startWranglerDev({ vars: { ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY: randomEncryptionKey() } });
  const admin = adminClient({ url: dev.url, token: TOKEN });
  const api = <T>(method: string, path: string, body?: unknown) => admin.request<T>(method, path.replace(/^\/api/, ""), { body });
  try {
    await api("POST", "/api/datasets/builtin/sim-train");
    console.log(
      `bench:train — 1 epoch, ${SAMPLES} samples × G=5, batch ${SAMPLES}, ${GROUPS_IN_FLIGHT} groups in flight, wrangler dev + standalone simulated model`,
    );
    for (const latency of LATENCIES_MS) {
      const sim = await startSimServer({ latencyMs: latency, jitterMs: latency * 0.1 });
      try {
        const agent = `bench-${latency}ms`;
        await api("POST", "/api/agents", {
          name: agent,
          upstream: { baseUrl: sim.url, model: "sim-1" },
          systemPrompt: "Solve the word problem step by step and give the final answer in \\boxed{}.",
          verifier: { kind: "math" },
        });
        const started = performance.now();
        const { id } = await api<{ id: string }>("POST", "/api/runs", {
          agent,
          dataset: "sim-train",
          epochs: 1,
          groupSize: 5,
          batchSize: SAMPLES,
          maxGroupsInFlight: GROUPS_IN_FLIGHT,
          seed: 1,
        });
        const run = await pollUntil(
          () => api<RunView>("GET", `/api/runs/${id}`),
          (r) => isFinished(r.status),
          undefined,
          100,
        );
        const wallMs = performance.now() - started;
        if (run.status !== "completed") throw new Error(`run ended ${run.status}: ${run.error}`);
        const calls = Object.fromEntries(run.llm.map((s) => [s.stage, s.calls]));
        // Rollout → summary → advantage → group update happen in sequence per group, then the batch
        // update and each consolidation round; each sequential stage costs at least one mean latency.
        // With fewer groups in flight than samples the groups run in waves, each wave a full chain.
        const waves = Math.ceil(SAMPLES / GROUPS_IN_FLIGHT);
        const sequentialStages = 4 * waves + (calls.batch_update ? 1 : 0) + (calls.consolidate ?? 0);
        const lowerBoundMs = sequentialStages * latency;
        const totalCalls = run.llm.reduce((n, s) => n + s.calls, 0);
        const steps = run.progress.steps;
        console.log(
          [
            `latency ${latency} ms ± 10%`,
            `  wall-clock            ${(wallMs / 1000).toFixed(2)} s`,
            `  critical path (bound) ${(lowerBoundMs / 1000).toFixed(2)} s  (${sequentialStages} sequential stages × ${latency} ms, ${waves} wave(s) of groups)`,
            `  ratio                 ${(wallMs / lowerBoundMs).toFixed(2)}`,
            `  LLM calls             ${totalCalls} stored (${JSON.stringify(calls)}), ${sim.stats.total} HTTP requests`,
            `  peak calls in flight  ${sim.stats.peakInFlight}`,
            `  first call, last reply ${(((sim.stats.firstAt ?? started) - started) / 1000).toFixed(2)} s, ${(((sim.stats.lastAt ?? started) - started) / 1000).toFixed(2)} s after the run was created`,
            `  model idle            ${(sim.stats.idleMs / 1000).toFixed(2)} s in between (no call in flight: our own work on the critical path)`,
            `  groups                kept ${run.groups.kept}, skipped ${run.groups.skipped}, dropped ${run.groups.dropped}`,
            `  Workflow steps        ${steps ? `${steps.run} in the run + ${steps.segments} in segments + ${steps.lanes} in lanes (at most ${steps.maxPerInstance} in one instance)` : "n/a"}`,
          ].join("\n"),
        );
      } finally {
        await sim.close();
      }
    }
  } catch (error) {
    console.error(`wrangler dev output (last lines):\n${dev.output().slice(-4000)}`);
    throw error;
  } finally {
    await dev.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
