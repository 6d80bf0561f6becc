/**
 * `npm run bench:train`: one epoch of 100 sim-train samples × G=5 through a real `wrangler dev`
 * (Workflows, local D1) against the standalone simulated model, at 1 s ± 10% and 100 ms ± 10% latency,
 * each with the default 20 groups in flight and with 100. Prints, per run: wall-clock, the critical-path
 * lower bound (sequential LLM stages × mean latency), their ratio, model-idle time, D1 statements per
 * group (counted inside the Worker, DEBUG_COUNT_D1=1), where the time between calls went (from the
 * model's request log, scripts/lib/trainTimeline.ts), CPU used by the local stack and by the model, and
 * Workflow steps; then a summary table and the issue's goals.
 *
 * BENCH_CONFIGS="1000:20,100:20" picks latency:groups-in-flight pairs.
 */
import { availableParallelism } from "node:os";
import { adminClient, isFinished, pollUntil } from "../cli/adminClient";
import { readFileSync } from "node:fs";
import { groupCpuMs, groupRunQueueWaitMs } from "./lib/processCpu";
import { trainTimeline } from "./lib/trainTimeline";
import { randomEncryptionKey, startWranglerDev } from "./lib/wranglerDev";
import { startSimServer } from "./simServer";

const TOKEN = "bench-admin-token";
const SAMPLES = 100;
const GROUP_SIZE = 5;
const SEED = 1;
/** The default groups in flight of this benchmark, and the wide setting. */
const CONFIGS = (process.env.BENCH_CONFIGS ?? "1000:20,1000:100,100:20,100:100").split(",").map((pair) => {
  const [latency, inFlight] = pair.split(":").map(Number);
  return { latency: latency ?? 1000, inFlight: inFlight ?? 20 };
});
/** The issue's goals: wall-clock over critical path at 1 s and at 100 ms with the default 20 in flight. */
const GOALS: { latency: number; inFlight: number; ratio: number }[] = [
  { latency: 1000, inFlight: 20, ratio: 1.2 },
  { latency: 100, inFlight: 20, ratio: 2.0 },
];

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
type D1Counts = { roundTrips: number; reads: number; writes: number; batches: number };

type Row = {
  latency: number;
  inFlight: number;
  wallMs: number;
  boundMs: number;
  idleMs: number;
  statementsPerGroup: number;
  roundTripsPerGroup: number;
  stackCpuMs: number;
  modelCpuMs: number;
  /** Runnable but not running: held back by the machine's other work. */
  waitedMs: number;
  load: string;
};

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** What the run's CPU alone takes with every core of the machine busy on it: no wall-clock can be shorter. */
const cpuFloor = (r: Row) => (r.stackCpuMs + r.modelCpuMs) / availableParallelism();
const ms = (x: number) => `${Math.round(x)} ms`;

async function main(): Promise<void> {
  const cores = availableParallelism();
  const dev = await startWranglerDev({ vars: { ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY: randomEncryptionKey(), DEBUG_COUNT_D1: "1" } });
  const admin = adminClient({ url: dev.url, token: TOKEN });
  const api = <T>(method: string, path: string, body?: unknown) => admin.request<T>(method, path.replace(/^\/api/, ""), { body });
  const rows: Row[] = [];
  try {
    await api("POST", "/api/datasets/builtin/sim-train");
    console.log(
      `bench:train — 1 epoch, ${SAMPLES} samples × G=${GROUP_SIZE}, batch ${SAMPLES}, wrangler dev + standalone simulated model, ${cores} cores`,
    );
    for (const { latency, inFlight } of CONFIGS) {
      const sim = await startSimServer({ latencyMs: latency, jitterMs: latency * 0.1 });
      try {
        const agent = `bench-${latency}ms-${inFlight}`;
        await api("POST", "/api/agents", {
          name: agent,
          upstream: { baseUrl: sim.url, model: "sim-1" },
          systemPrompt: "Solve the word problem step by step and give the final answer in \\boxed{}.",
          verifier: { kind: "math" },
        });
        await api("POST", "/api/serving/stats/reset");
        const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
        const cpuBefore = {
          stack: groupCpuMs(dev.pgid),
          model: process.cpuUsage(),
          waited: groupRunQueueWaitMs(dev.pgid) + groupRunQueueWaitMs(null),
        };
        const started = performance.now();
        const { id } = await api<{ id: string }>("POST", "/api/runs", {
          agent,
          dataset: "sim-train",
          epochs: 1,
          groupSize: GROUP_SIZE,
          batchSize: SAMPLES,
          maxGroupsInFlight: inFlight,
          seed: SEED,
        });
        const run = await pollUntil(
          () => api<RunView>("GET", `/api/runs/${id}`),
          (r) => isFinished(r.status),
          undefined,
          100,
        );
        const finished = performance.now();
        const wallMs = finished - started;
        const modelCpu = process.cpuUsage(cpuBefore.model);
        const stackCpuMs = groupCpuMs(dev.pgid) - cpuBefore.stack;
        const waitedMs = groupRunQueueWaitMs(dev.pgid) + groupRunQueueWaitMs(null) - cpuBefore.waited;
        // The benchmark's own polling runs in this process too: a small part of "model" CPU.
        const modelCpuMs = (modelCpu.user + modelCpu.system) / 1000;
        const d1 = (await api<{ d1: D1Counts }>("GET", "/api/serving/stats")).d1;
        if (run.status !== "completed") throw new Error(`run ended ${run.status}: ${run.error}`);
        const calls = Object.fromEntries(run.llm.map((x) => [x.stage, x.calls]));
        // Rollout → summary → advantage → group update happen in sequence per group, then the batch
        // update and each consolidation round; each sequential stage costs at least one mean latency.
        // A lane runs its groups one after the other: ceil(samples / lanes) chains of 4 stages.
        const chains = Math.ceil(SAMPLES / Math.min(SAMPLES, inFlight));
        const sequentialStages = 4 * chains + (calls.batch_update ? 1 : 0) + (calls.consolidate ?? 0);
        const boundMs = sequentialStages * latency;
        const totalCalls = run.llm.reduce((n, x) => n + x.calls, 0);
        const groups = run.progress.groupsDone;
        const steps = run.progress.steps;
        const t = trainTimeline(sim.requests, {
          createdAt: started,
          finishedAt: finished,
          seed: SEED,
          samples: SAMPLES,
          batchSize: SAMPLES,
          groupSize: GROUP_SIZE,
          maxGroupsInFlight: inFlight,
        });
        const row: Row = {
          latency,
          inFlight,
          wallMs,
          boundMs,
          idleMs: sim.stats.idleMs,
          statementsPerGroup: (d1.reads + d1.writes) / groups,
          roundTripsPerGroup: d1.roundTrips / groups,
          stackCpuMs,
          modelCpuMs,
          waitedMs,
          load,
        };
        rows.push(row);
        console.log(
          [
            `latency ${latency} ms ± 10%, ${inFlight} groups in flight`,
            `  wall-clock            ${s(wallMs)}`,
            `  critical path (bound) ${s(boundMs)}  (${sequentialStages} sequential stages × ${latency} ms: ${chains} group(s) per lane × 4 stages + batch update)`,
            `  ratio                 ${(wallMs / boundMs).toFixed(2)}`,
            `  model idle            ${s(sim.stats.idleMs)} between the first call and the last reply with no call in flight`,
            `  D1 per group          ${row.statementsPerGroup.toFixed(1)} statements in ${row.roundTripsPerGroup.toFixed(1)} round trips (${d1.reads} reads, ${d1.writes} writes, ${d1.batches} batches in all, run and batch steps included)`,
            `  where the time went   first call ${ms(t.firstCallMs)} after the run was created; lanes started ${ms(t.laneStart.mean)} after it on average (last ${ms(t.laneStart.p90)} at p90)`,
            `                        within a group ${ms(t.stageGap.mean)} between one stage's last reply and the next stage's first request (p90 ${ms(t.stageGap.p90)}, ${t.stageGap.n} gaps)`,
            `                        within a lane ${ms(t.groupGap.mean)} between one group's last reply and the next group's first request (p90 ${ms(t.groupGap.p90)}, ${t.groupGap.n} gaps)`,
            `                        first to last lane of the batch done ${ms(t.laneSpreadMs)} apart; last group → batch update ${ms(t.toUpdateMs)}; last reply → run seen finished ${ms(t.toFinishMs)}`,
            `  CPU                   local stack (wrangler, workerd) ${s(stackCpuMs)}, simulated model + benchmark ${s(modelCpuMs)}: ${((100 * (stackCpuMs + modelCpuMs)) / (wallMs * cores)).toFixed(0)}% of ${cores} cores over the wall-clock`,
            `                        their threads waited ${s(waitedMs)} for a CPU held by other work (load average ${load} when the run started)`,
            `  LLM calls             ${totalCalls} stored (${JSON.stringify(calls)}), ${sim.stats.total} HTTP requests, at most ${sim.stats.peakInFlight} in flight`,
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
  console.log("\nsummary");
  console.log(
    "| latency | in flight | wall-clock | critical path | ratio | model idle | D1 statements / group | round trips / group | CPU stack + model | CPU floor (ratio) | CPU use | waited for a CPU | load |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows)
    console.log(
      `| ${r.latency} ms | ${r.inFlight} | ${s(r.wallMs)} | ${s(r.boundMs)} | ${(r.wallMs / r.boundMs).toFixed(2)} | ${s(r.idleMs)} | ${r.statementsPerGroup.toFixed(1)} | ${r.roundTripsPerGroup.toFixed(1)} | ${s(r.stackCpuMs)} + ${s(r.modelCpuMs)} | ${(cpuFloor(r) / r.boundMs).toFixed(2)} | ${((100 * (r.stackCpuMs + r.modelCpuMs)) / (r.wallMs * cores)).toFixed(0)}% | ${s(r.waitedMs)} | ${r.load} |`,
    );
  for (const goal of GOALS) {
    const r = rows.find((x) => x.latency === goal.latency && x.inFlight === goal.inFlight);
    if (!r) continue;
    const ratio = r.wallMs / r.boundMs;
    const cpuFloorMs = cpuFloor(r);
    console.log(
      `goal ≤ ${goal.ratio} at ${goal.latency} ms with ${goal.inFlight} in flight: ${ratio.toFixed(2)} — ${ratio <= goal.ratio ? "met" : `not met; CPU needed ${s(r.stackCpuMs + r.modelCpuMs)} = ${s(cpuFloorMs)} on ${cores} cores against a ${s(goal.ratio * r.boundMs)} budget; our threads waited ${s(r.waitedMs)} for a CPU held by other work`}`,
    );
  }
  // Where the CPU alone rules a ratio of 2 out on this machine, whatever the goal.
  for (const r of rows)
    if (cpuFloor(r) > 2 * r.boundMs)
      console.log(
        `${r.latency} ms with ${r.inFlight} in flight: the work alone takes ${s(r.stackCpuMs + r.modelCpuMs)} of CPU, at least ${s(cpuFloor(r))} on ${cores} cores — a ratio of ${(cpuFloor(r) / r.boundMs).toFixed(2)} before any waiting; ≤ 2.0 is out of reach on this machine`,
      );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
