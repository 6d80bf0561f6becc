/**
 * `npm run bench:tools`:
 * 1. One `execute_code` call: p50/p99 wall time and CPU time of the QuickJS sandbox (a fresh runtime per
 *    call, the Worker's limits) running the code the simulated model writes for the 150 sim-tools-test
 *    problems, in this Node process (V8, the same wasm and executor code the Worker runs).
 * 2. One training epoch with the code tool: sim-tools-train (60) × G=5 through a real `wrangler dev`
 *    against the standalone simulated model at 1 s ± 10% latency. Prints wall-clock, the critical-path
 *    lower bound (sequential LLM calls × mean latency), their ratio, tool calls and Workflow steps.
 */
import { newQuickJSWASMModuleFromVariant } from "quickjs-emscripten-core";
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import { adminClient, isFinished, pollUntil } from "../cli/adminClient";
import { simToolDataset } from "../src/sim";
import { findToolProblem } from "../src/sim/toolsProblems";
import { writeCode } from "../src/sim/toolsRollout";
import { DEFAULT_CODE_LIMITS } from "../src/tools/code/executor";
import { QuickJsExecutor } from "../src/tools/code/quickjs";
import { randomEncryptionKey, startWranglerDev } from "./lib/wranglerDev";
import { startSimServer } from "./simServer";

const TOKEN = "bench-admin-token";
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 1000);
/** Groups in flight (see scripts/bench-train.ts: local wrangler dev runs out of descriptors with hundreds). */
const GROUPS_IN_FLIGHT = Number(process.env.BENCH_GROUPS_IN_FLIGHT ?? 20);
const ROUNDS = Number(process.env.BENCH_CODE_ROUNDS ?? 4);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

async function benchExecuteCode(): Promise<void> {
  const executor = new QuickJsExecutor(() => newQuickJSWASMModuleFromVariant(releaseSync));
  const codes = simToolDataset("sim-tools-test").map((p) => {
    const x = findToolProblem(p.question);
    if (!x) throw new Error(`not a sim-tools problem: ${p.question}`);
    return writeCode(x, { loopWrong: false, bigWrong: false, printWrong: false });
  });
  await executor.run("1", DEFAULT_CODE_LIMITS); // loads the wasm module once, as an isolate does
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const code of codes) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const result = await executor.run(code, DEFAULT_CODE_LIMITS);
      wall.push(performance.now() - t0);
      const used = process.cpuUsage(c0);
      cpu.push((used.user + used.system) / 1000);
      if (result.error !== null) throw new Error(`sandbox error: ${result.error}`);
    }
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const f = (ms: number) => `${ms.toFixed(2)} ms`;
  console.log(
    [
      `execute_code — ${wall.length} calls (${codes.length} sim-tools-test programs × ${ROUNDS}), fresh QuickJS runtime each, default limits, Node ${process.version}`,
      `  wall  p50 ${f(percentile(wall, 50))}  p99 ${f(percentile(wall, 99))}  max ${f(wall[wall.length - 1] ?? 0)}`,
      `  CPU   p50 ${f(percentile(cpu, 50))}  p99 ${f(percentile(cpu, 99))}  max ${f(cpu[cpu.length - 1] ?? 0)}`,
    ].join("\n"),
  );
}

type RunView = {
  status: string;
  error: string | null;
  progress: { groupsDone: number; steps: { run: number; segments: number; lanes: number; maxPerInstance: number } | null };
  groups: { kept: number; skipped: number; dropped: number };
  batches: { avgToolCalls: number }[];
  llm: { stage: string; calls: number }[];
};

async function benchEpoch(): Promise<void> {
  const dev = await startWranglerDev({ vars: { ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY: randomEncryptionKey() } });
  const admin = adminClient({ url: dev.url, token: TOKEN });
  const api = <T>(method: string, path: string, body?: unknown) => admin.request<T>(method, path.replace(/^\/api/, ""), { body });
  const sim = await startSimServer({ latencyMs: LATENCY_MS, jitterMs: LATENCY_MS * 0.1 });
  try {
    const dataset = await api<{ sampleCount: number }>("POST", "/api/datasets/builtin/sim-tools-train");
    const samples = dataset.sampleCount;
    await api("POST", "/api/agents", {
      name: "bench-tools",
      upstream: { baseUrl: sim.url, model: "sim-1" },
      systemPrompt: "Answer exactly. You may run JavaScript with execute_code. Give the final answer in \\boxed{}.",
      verifier: { kind: "math" },
      tools: [{ type: "code" }],
      maxTurns: 6,
    });
    console.log(
      `training epoch with the code tool — ${samples} sim-tools-train samples × G=5, batch ${samples}, ${GROUPS_IN_FLIGHT} groups in flight, latency ${LATENCY_MS} ms ± 10%`,
    );
    const started = performance.now();
    const { id } = await api<{ id: string }>("POST", "/api/runs", {
      agent: "bench-tools",
      dataset: "sim-tools-train",
      epochs: 1,
      groupSize: 5,
      batchSize: samples,
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
    const rollouts = await api<{ data: { toolCalls: number }[] }>("GET", `/api/runs/${id}/rollouts?limit=500`);
    // A rollout makes one model turn per tool call plus its final answer, in sequence. A lane runs its
    // groups one after the other, each a chain of the longest rollout's turns, then summary → advantage →
    // group update; then the batch update and each consolidation round. Each sequential call costs at
    // least one latency.
    const longestRollout = Math.max(...rollouts.data.map((r) => r.toolCalls + 1));
    const calls = Object.fromEntries(run.llm.map((s) => [s.stage, s.calls]));
    const chains = Math.ceil(samples / Math.min(samples, GROUPS_IN_FLIGHT));
    const sequential = chains * (longestRollout + 3) + (calls.batch_update ? 1 : 0) + (calls.consolidate ?? 0);
    const lowerBoundMs = sequential * LATENCY_MS;
    const steps = run.progress.steps;
    console.log(
      [
        `  wall-clock            ${(wallMs / 1000).toFixed(2)} s`,
        `  critical path (bound) ${(lowerBoundMs / 1000).toFixed(2)} s  (${sequential} sequential calls × ${LATENCY_MS} ms: ${chains} group(s) per lane × (${longestRollout} rollout turns + 3 reflection stages) + batch update and consolidation)`,
        `  ratio                 ${(wallMs / lowerBoundMs).toFixed(2)}`,
        `  LLM calls             ${run.llm.reduce((n, s) => n + s.calls, 0)} stored (${JSON.stringify(calls)}), ${sim.stats.total} HTTP requests, peak ${sim.stats.peakInFlight} in flight`,
        `  tool calls            ${rollouts.data.reduce((n, r) => n + r.toolCalls, 0)} in ${rollouts.data.length} rollouts (${run.batches[0]?.avgToolCalls.toFixed(2)} per rollout)`,
        `  groups                kept ${run.groups.kept}, skipped ${run.groups.skipped}, dropped ${run.groups.dropped}`,
        `  Workflow steps        ${steps ? `${steps.run} in the run + ${steps.segments} in segments + ${steps.lanes} in lanes (at most ${steps.maxPerInstance} in one instance)` : "n/a"}`,
      ].join("\n"),
    );
  } catch (error) {
    console.error(`wrangler dev output (last lines):\n${dev.output().slice(-4000)}`);
    throw error;
  } finally {
    await sim.close();
    await dev.stop();
  }
}

async function main(): Promise<void> {
  await benchExecuteCode();
  if (process.env.BENCH_SKIP_EPOCH !== "1") await benchEpoch();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
