/**
 * `npm run bench:scale`: one epoch over 5,000 generated problems × G=5 with the simulated model at 0 ms,
 * through a real `wrangler dev` (Workflows, local D1). Prints the run's plan and the steps each kind of
 * instance took, D1 rows and bytes per table, R2 bytes per sample, LLM calls and wall-clock, per 1,000
 * sample-epochs; then the plan `POST /api/runs` gives a run of 3 epochs × 20,000 samples, and the largest
 * run that fits the platform's limits, computed from the measured figures (README, "Capacity").
 *
 * BENCH_SCALE_SAMPLES=1000 runs a smaller epoch.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { adminClient, isFinished } from "../cli/adminClient";
import { runPlan, STEP_RESERVE, WORKFLOW_STEP_LIMIT, type RunPlan } from "../src/core/stepBudget";
import { PAPER_DEFAULTS } from "../src/core/hyperparams";
import { generateProblems } from "../src/sim";
import { groupCpuMs } from "./lib/processCpu";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "./lib/wranglerDev";
import { startSimServer } from "./simServer";

const TOKEN = "bench-scale-token";
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 5000);
/** Texts longer than this many bytes go to R2 (the Worker's TEXT_INLINE_MAX_BYTES); default: the Worker's own default. */
const INLINE_MAX = process.env.BENCH_SCALE_INLINE_MAX;
const LARGE = { epochs: 3, samples: 20_000 };
/** Cloudflare's documented limits (paid plan) that bound a run's size. */
const D1_DATABASE_BYTES = 10 * 1024 ** 3;
const ROOT = resolve(import.meta.dirname, "..");

type RunView = {
  status: string;
  error: string | null;
  progress: {
    epoch: number | null;
    batch: number | null;
    groupsDone: number;
    groupsTotal: number;
    steps: { run: number; segments: number; lanes: number; maxPerInstance: number } | null;
  };
  plan: RunPlan;
  groups: { kept: number; skipped: number; dropped: number };
  llm: { stage: string; calls: number; promptTokens: number; completionTokens: number }[];
};

/**
 * Runs SQL against the local D1 of a stopped dev server with `wrangler d1 execute` (each statement's
 * rows). Never while the dev server runs: a second process on its database files breaks it.
 */
function d1(state: string, sql: string): Record<string, unknown>[][] {
  const r = spawnSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", sql], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
  });
  if (r.status !== 0) throw new Error(`wrangler d1 execute failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return (JSON.parse(r.stdout) as { results: Record<string, unknown>[] }[]).map((x) => x.results);
}

type RunStorage = {
  d1: { rows: number; inlineTextBytes: number; textRefs: number };
  r2: { objects: number; bytes: number; complete: boolean };
};

const TABLES = ["llm_calls", "rollouts", "groups", "batches", "library_versions", "library_items", "runs"];

type TableFigures = { table: string; rows: number; bytes: number };
type D1Figures = { tables: TableFigures[]; databaseBytes: number | null; how: string };

/**
 * The training tables' rows and bytes in a stopped dev server's local D1. With the `sqlite3` command, on
 * a copy of the database files: the write-ahead log folded in, bytes are the pages of each table and
 * its indexes (dbstat) and the database's size is its pages — what D1 counts. Without it, through
 * `wrangler d1 execute` (which allows neither dbstat nor page counts): bytes are the stored values' lengths.
 */
function measureD1(state: string): D1Figures {
  const dir = join(state, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(dir).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  const hasSqlite = spawnSync("sqlite3", ["-version"], { encoding: "utf8" }).status === 0;
  if (file && hasSqlite) {
    const copy = mkdtempSync(join(tmpdir(), "tfgrpo-d1-"));
    try {
      for (const suffix of ["", "-wal"])
        if (existsSync(join(dir, file + suffix))) copyFileSync(join(dir, file + suffix), join(copy, `db.sqlite${suffix}`));
      const sqlite = (sql: string): Record<string, unknown>[] => {
        const r = spawnSync("sqlite3", ["-json", join(copy, "db.sqlite"), sql], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
        return r.stdout.trim() === "" ? [] : (JSON.parse(r.stdout) as Record<string, unknown>[]);
      };
      sqlite("PRAGMA wal_checkpoint(TRUNCATE)");
      const pages = new Map(
        sqlite(
          "SELECT m.tbl_name AS t, sum(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_master m ON s.name = m.name GROUP BY m.tbl_name",
        ).map((r) => [String(r.t), Number(r.bytes)]),
      );
      const counts = sqlite(TABLES.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(" UNION ALL "));
      const [size] = sqlite("SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()");
      return {
        tables: TABLES.map((table) => ({ table, rows: Number(counts.find((c) => c.t === table)?.n ?? 0), bytes: pages.get(table) ?? 0 })),
        databaseBytes: Number(size?.bytes ?? 0),
        how: "pages of each table and its indexes (sqlite3, dbstat)",
      };
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  const columns = d1(state, TABLES.map((t) => `SELECT name FROM pragma_table_info('${t}')`).join("; "));
  const sums = d1(
    state,
    TABLES.map((t, i) => {
      const names = (columns[i] ?? []).map((c) => String(c.name));
      const bytes = names.map((c) => `coalesce(length(CAST("${c}" AS BLOB)), 0)`).join(" + ") || "0";
      return `SELECT count(*) AS n, coalesce(sum(${bytes}), 0) AS bytes FROM ${t}`;
    }).join("; "),
  );
  return {
    tables: TABLES.map((table, i) => ({ table, rows: Number(sums[i]?.[0]?.n ?? 0), bytes: Number(sums[i]?.[0]?.bytes ?? 0) })),
    databaseBytes: null,
    how: "lengths of the stored values, indexes not counted (no sqlite3 command: wrangler d1 execute)",
  };
}

const mb = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MB`;
const num = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), "tfgrpo-scale-"));
  const vars: Record<string, string> = { ADMIN_TOKEN: TOKEN, ENCRYPTION_KEY: randomEncryptionKey() };
  if (INLINE_MAX !== undefined) vars.TEXT_INLINE_MAX_BYTES = INLINE_MAX;
  const sim = await startSimServer({ latencyMs: 0, keepRequests: false });
  let dev: WranglerDev | null = null;
  /** The dev server on the benchmark's state, started afresh (measurements are taken while it is stopped). */
  const start = async () => {
    dev = await startWranglerDev({ vars, persistDir: state });
    return { dev, admin: adminClient({ url: dev.url, token: TOKEN }) };
  };
  const stop = async () => {
    await dev?.stop();
    dev = null;
  };
  try {
    console.log(
      `bench:scale — 1 epoch over ${num(SAMPLES)} samples × G=${PAPER_DEFAULTS.groupSize}, simulated model at 0 ms, wrangler dev`,
    );
    const problems = generateProblems(4242, SAMPLES + LARGE.samples, "scale");
    const rows = (from: number, to: number) => problems.slice(from, to).map(({ question, answer }) => ({ question, answer }));
    let { admin } = await start();
    await admin.post(`/datasets?name=scale-${SAMPLES}`, rows(0, SAMPLES));
    await admin.post("/agents", {
      name: "scale",
      upstream: { baseUrl: sim.url, model: "sim-1" },
      systemPrompt: "Solve the word problem step by step and give the final answer in \\boxed{}.",
      verifier: { kind: "math" },
    });
    await stop();
    const before = measureD1(state);

    const running = await start();
    admin = running.admin;
    const cpu0 = groupCpuMs(running.dev.pgid);
    const started = performance.now();
    const created = await admin.post<{ id: string; plan: RunPlan }>("/runs", {
      agent: "scale",
      dataset: `scale-${SAMPLES}`,
      epochs: 1,
      seed: 1,
    });
    const plan = created.plan;
    const batches = Math.ceil(SAMPLES / 100);
    console.log(
      `plan: 1 run instance (≤ ${plan.run.maxSteps} steps), ${plan.segments.instances} segment(s) of ${plan.segments.batchesEach} batches (≤ ${plan.segments.maxSteps} steps; ${batches} batches in the epoch), ${num(plan.lanes.instances)} lanes (≤ ${plan.lanes.maxSteps} steps); ${num(plan.totalSteps)} steps in all`,
    );
    let run: RunView;
    let lastPrint = performance.now();
    for (;;) {
      run = await admin.get<RunView>(`/runs/${created.id}`);
      if (isFinished(run.status)) break;
      if (performance.now() - lastPrint > 30_000) {
        lastPrint = performance.now();
        console.log(
          `  ${((performance.now() - started) / 1000).toFixed(0)} s: batch ${(run.progress.batch ?? 0) + 1} of ${batches}, ${num(run.progress.groupsDone)} of ${num(run.progress.groupsTotal)} groups, ${num(sim.stats.total)} calls`,
        );
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const wallMs = performance.now() - started;
    const stackCpuMs = groupCpuMs(running.dev.pgid) - cpu0;
    if (run.status !== "completed") throw new Error(`run ended ${run.status}: ${run.error}`);
    // The run's texts in R2, as the Worker counts them (GET /api/runs/{run}/storage lists its prefix).
    const storage = await admin.get<RunStorage>(`/runs/${created.id}/storage`);
    const r2 = storage.r2.bytes;
    await stop();
    const after = measureD1(state);
    const databaseGrowth =
      after.databaseBytes !== null && before.databaseBytes !== null ? after.databaseBytes - before.databaseBytes : null;
    const sampleEpochs = SAMPLES;
    const per1000 = (x: number) => (x * 1000) / sampleEpochs;
    const calls = run.llm.reduce((n, s) => n + s.calls, 0);
    const grown = after.tables.map((t, i) => ({
      ...t,
      rows: t.rows - (before.tables[i]?.rows ?? 0),
      bytes: t.bytes - (before.tables[i]?.bytes ?? 0),
    }));
    const d1Rows = grown.reduce((n, t) => n + t.rows, 0);
    const d1Bytes = grown.reduce((n, t) => n + t.bytes, 0);
    const steps = run.progress.steps;
    console.log(
      [
        `run ${run.status} in ${(wallMs / 1000).toFixed(1)} s (${(wallMs / SAMPLES).toFixed(1)} ms per group; local stack CPU ${(stackCpuMs / 1000).toFixed(1)} s)`,
        `  groups              kept ${num(run.groups.kept)}, skipped ${num(run.groups.skipped)}, dropped ${num(run.groups.dropped)}`,
        `  LLM calls           ${num(calls)} (${run.llm.map((s) => `${s.stage} ${num(s.calls)}`).join(", ")})`,
        `  steps per instance  run ${steps?.run ?? "n/a"} (planned ≤ ${plan.run.maxSteps}); ${plan.segments.instances} segment(s): ${steps?.segments ?? "n/a"} in all (planned ≤ ${plan.segments.maxSteps} each); ${num(plan.lanes.instances)} lanes: ${num(steps?.lanes ?? 0)} in all (planned ≤ ${plan.lanes.maxSteps} each); at most ${steps?.maxPerInstance ?? "n/a"} in one instance, limit ${WORKFLOW_STEP_LIMIT}`,
        `  D1, what the run added (bytes: ${after.how}):`,
        ...grown.map((t) => `    ${t.table.padEnd(17)} ${num(t.rows).padStart(8)} rows  ${mb(t.bytes).padStart(9)}`),
        `    ${"all".padEnd(17)} ${num(d1Rows).padStart(8)} rows  ${mb(d1Bytes).padStart(9)} (${num(d1Bytes / SAMPLES)} bytes per sample-epoch)${databaseGrowth === null ? "" : `; the database grew ${mb(databaseGrowth)}`}`,
        `  R2                  ${mb(r2)} in ${num(storage.r2.objects)} objects${storage.r2.complete ? "" : " (listing stopped: at least)"} (${num(r2 / SAMPLES)} bytes per sample-epoch); texts over ${INLINE_MAX ?? "the default"} bytes go there, ${num(storage.d1.textRefs)} referred to from D1, ${mb(storage.d1.inlineTextBytes)} of text inline`,
      ].join("\n"),
    );

    // The plan of a run of 3 epochs over 20,000 samples, as POST /api/runs gives it; then cancelled.
    ({ admin } = await start());
    await admin.post(`/datasets?name=scale-${LARGE.samples}`, rows(SAMPLES, SAMPLES + LARGE.samples));
    await admin.post("/agents", {
      name: "scale-large",
      upstream: { baseUrl: sim.url, model: "sim-1" },
      systemPrompt: "Solve the word problem step by step and give the final answer in \\boxed{}.",
      verifier: { kind: "math" },
    });
    const large = await admin.post<{ id: string; plan: RunPlan }>("/runs", {
      agent: "scale-large",
      dataset: `scale-${LARGE.samples}`,
      epochs: LARGE.epochs,
    });
    await admin.post(`/runs/${large.id}/cancel`);
    await stop();
    const lp = large.plan;
    const allowed = WORKFLOW_STEP_LIMIT - STEP_RESERVE;
    const fits = [lp.run, lp.segments, lp.lanes].every((k) => k.maxSteps <= allowed);
    console.log(
      [
        `POST /api/runs, ${LARGE.epochs} epochs × ${num(LARGE.samples)} samples: 201, plan (cancelled at once):`,
        `  run instance        1, ${lp.run.maxSteps} steps`,
        `  segments            ${lp.segments.instances} (${lp.segments.perEpoch} per epoch, ${lp.segments.batchesEach} batches each), at most ${lp.segments.maxSteps} steps each`,
        `  lanes               ${num(lp.lanes.instances)} (${lp.lanes.perBatch} per batch), at most ${lp.lanes.maxSteps} steps each`,
        `  every instance within ${allowed} steps (limit ${WORKFLOW_STEP_LIMIT}, ${STEP_RESERVE} kept): ${fits ? "yes" : "NO"}; ${num(lp.totalSteps)} steps in all`,
      ].join("\n"),
    );

    // Capacity per 1,000 sample-epochs, from what this run measured, and the largest run that fits.
    // D1's limit is on the database's size: its growth, indexes included, when measured.
    const bytesPer = Math.max(databaseGrowth ?? 0, d1Bytes) / sampleEpochs;
    const maxByD1 = D1_DATABASE_BYTES / bytesPer;
    const defaults = { epochs: LARGE.epochs, batchSize: 100, maxGroupsInFlight: PAPER_DEFAULTS.maxGroupsInFlight };
    let maxSamplesBySteps = LARGE.samples;
    while (runPlan(maxSamplesBySteps * 2, defaults).run.maxSteps <= allowed) maxSamplesBySteps *= 2;
    for (let step = maxSamplesBySteps / 2; step >= 1000; step /= 2)
      if (runPlan(maxSamplesBySteps + step, defaults).run.maxSteps <= allowed) maxSamplesBySteps += step;
    console.log(
      [
        "capacity per 1,000 sample-epochs (G=5, batch 100, 16 lanes; measured above):",
        "| D1 rows | D1 bytes | R2 bytes | Workflow steps | LLM calls |",
        "|---|---|---|---|---|",
        `| ${num(per1000(d1Rows))} | ${mb(per1000(bytesPer * sampleEpochs))} | ${mb(per1000(r2))} | ${num(per1000(run.plan.totalSteps))} | ${num(per1000(calls))} |`,
        `largest run that fits: D1's ${mb(D1_DATABASE_BYTES)} per database holds about ${num(maxByD1)} sample-epochs at ${num(bytesPer)} bytes each (${num(maxByD1 / LARGE.epochs)} samples × ${LARGE.epochs} epochs) with texts over the inline threshold in R2; the step plan allows ${num(maxSamplesBySteps)} samples × ${LARGE.epochs} epochs (the run's own instance at ${allowed} steps).`,
      ].join("\n"),
    );
  } catch (error) {
    if (dev) console.error(`wrangler dev output (last lines):\n${(dev as WranglerDev).output().slice(-4000)}`);
    throw error;
  } finally {
    await stop();
    await sim.close();
    rmSync(state, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
