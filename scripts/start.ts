/**
 * `npm start`: the local stack and a two-minute demonstration of the method, offline.
 *
 * Brings up `wrangler dev` (local D1 and Workflows, state kept in .wrangler/tfgrpo-start), then — unless
 * `--no-demo` / TFGRPO_NO_DEMO=1 — creates the agent `demo` on the simulated model, loads the built-in
 * `sim-train` and `sim-test`, evaluates the empty library, trains 3 epochs, evaluates the learned
 * library, promotes it, mints a proxy key and prints ready-to-paste client snippets. Then it serves
 * until Ctrl-C.
 *
 * Interrupted work finishes by itself: every start recovers the runs and evaluations left queued or
 * running (POST /api/recovery), a demonstration cut short carries on where it was
 * (scripts/start/demoState.ts), and the stack is watched and started again on the same state when it
 * stops answering (scripts/start/stack.ts), saying so.
 *
 * Environment:
 *   PORT                 port to listen on (default 8787)
 *   TFGRPO_STATE_DIR     local state directory (default .wrangler/tfgrpo-start)
 *   TFGRPO_DEV_VARS      secrets file (default .dev.vars; created with random values if missing)
 *   TFGRPO_NO_DEMO=1     only bring the stack up (same as --no-demo); --retrain redoes a finished demo
 *   OPENAI_BASE_URL, OPENAI_API_KEY, MODEL   use this provider instead of the simulated model, with
 *   DATASET (default gsm8k-test), TRAIN_ROWS (default 50), EVAL_ROWS (default 50)
 *   TEXT_INLINE_MAX_BYTES   texts above this many bytes go to R2 (default wrangler.toml's, docs/architecture.md §11)
 */
import { createServer } from "node:net";
import { resolve } from "node:path";
import {
  AdminApiError,
  adminClient,
  isFinished,
  pollUntil,
  type AdminClient,
  type Agent,
  type Evaluation,
  type LibraryVersion,
  type ProxyKey,
  type Run,
  type Sample,
} from "../cli/adminClient";
import { buildDashboard } from "./buildUi";
import { ensureDevVars } from "./start/devVars";
import { evaluationProgress, formatEvaluationVersion, meanTrail, runProgress } from "../cli/progress";
import { startWranglerDev, type WranglerDev } from "./lib/wranglerDev";
import { libraryQuality } from "../src/sim/calibration";
import { demoState, type DemoPhase } from "./start/demoState";
import { keepStackUp, throughRestarts } from "./start/stack";

const ROOT = resolve(import.meta.dirname, "..");
const args = new Set(process.argv.slice(2));
if (args.has("--help") || args.has("-h")) {
  console.log(`usage: npm start [-- --no-demo] [-- --retrain]

Brings up the local stack (wrangler dev, local D1 and Workflows) and, unless --no-demo, trains and
promotes the demo agent on the simulated model, then serves until Ctrl-C.
Environment: PORT, TFGRPO_STATE_DIR, TFGRPO_DEV_VARS, TFGRPO_NO_DEMO=1,
OPENAI_BASE_URL + OPENAI_API_KEY + MODEL (a real provider), DATASET, TRAIN_ROWS, EVAL_ROWS.`);
  process.exit(0);
}
const NO_DEMO = args.has("--no-demo") || process.env.TFGRPO_NO_DEMO === "1";
const RETRAIN = args.has("--retrain");
const PORT = Number(process.env.PORT ?? 8787);
const STATE_DIR = resolve(ROOT, process.env.TFGRPO_STATE_DIR ?? ".wrangler/tfgrpo-start");
const DEV_VARS = resolve(ROOT, process.env.TFGRPO_DEV_VARS ?? ".dev.vars");
const AGENT = "demo";
const SYSTEM_PROMPT = "Solve the word problem step by step and give the final answer in \\boxed{}.";

type Provider = { real: boolean; baseUrl: string; model: string; apiKey?: string; train: string; test: string; builtin: string };

function provider(): Provider {
  const { OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: apiKey, MODEL: model } = process.env;
  if (baseUrl && apiKey && model) {
    const builtin = process.env.DATASET ?? "gsm8k-test";
    return { real: true, baseUrl, model, apiKey, builtin, train: `${builtin}-train${trainRows()}`, test: `${builtin}-eval${evalRows()}` };
  }
  return { real: false, baseUrl: "sim://local", model: "sim-1", builtin: "sim-train", train: "sim-train", test: "sim-test" };
}
const trainRows = () => Number(process.env.TRAIN_ROWS ?? 50);
const evalRows = () => Number(process.env.EVAL_ROWS ?? 50);

const started = performance.now();
const timings: [string, number][] = [];
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function phase<T>(name: string, label: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  console.log(`▸ ${label}`);
  const value = await fn();
  const ms = performance.now() - t;
  timings.push([name, ms]);
  console.log(`  done in ${secs(ms)}`);
  return value;
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolvePort(false)));
  });
}

/** Creates the demo agent, or updates it to the configured upstream when it already exists. */
async function ensureAgent(api: AdminClient, p: Provider): Promise<{ agent: Agent; created: boolean }> {
  const upstream = { baseUrl: p.baseUrl, model: p.model, ...(p.apiKey ? { apiKey: p.apiKey } : {}) };
  try {
    const existing = await api.get<Agent>(`/agents/${AGENT}`);
    const agent = await api.patch<Agent>(`/agents/${AGENT}`, { upstream, systemPrompt: SYSTEM_PROMPT, verifier: { kind: "math" } });
    return { agent: { ...agent, activeVersion: existing.activeVersion }, created: false };
  } catch (e) {
    if (!(e instanceof AdminApiError && e.status === 404)) throw e;
  }
  const agent = await api.post<Agent>("/agents", {
    name: AGENT,
    upstream,
    systemPrompt: SYSTEM_PROMPT,
    objective: "Answer the word problems correctly; the final answer goes in \\boxed{}.",
    verifier: { kind: "math" },
  });
  return { agent, created: true };
}

/** Loads a built-in data set; 409 means it is already loaded. */
async function loadBuiltin(api: AdminClient, name: string): Promise<"loaded" | "already loaded"> {
  try {
    await api.post(`/datasets/builtin/${name}`);
    return "loaded";
  } catch (e) {
    if (e instanceof AdminApiError && e.status === 409) return "already loaded";
    throw e;
  }
}

async function datasetExists(api: AdminClient, name: string): Promise<boolean> {
  try {
    await api.get(`/datasets/${name}`);
    return true;
  } catch (e) {
    if (e instanceof AdminApiError && e.status === 404) return false;
    throw e;
  }
}

/** For a real provider: slices of a built-in set, uploaded as their own data sets (train, then held-out eval). */
async function ensureSlices(api: AdminClient, p: Provider): Promise<void> {
  await loadBuiltin(api, p.builtin);
  const slices: [string, number, number][] = [
    [p.train, 0, trainRows()],
    [p.test, trainRows(), evalRows()],
  ];
  for (const [name, offset, limit] of slices) {
    if (await datasetExists(api, name)) continue;
    const page = await api.get<{ data: Sample[] }>(`/datasets/${p.builtin}/samples`, { offset, limit });
    const jsonl = page.data
      .map((s) => JSON.stringify({ id: s.id, question: s.question, answer: s.answer, ...(s.extras ?? {}) }))
      .join("\n");
    await api.request("POST", "/datasets", {
      query: { name, description: `rows ${offset}–${offset + page.data.length - 1} of ${p.builtin}` },
      raw: jsonl,
      contentType: "application/x-ndjson",
    });
  }
}

type Demo = ReturnType<typeof demoState>;

/** The phase's id from an interrupted demonstration, or a new one from `start` (recorded at once). */
async function phaseId(demo: Demo, phase: DemoPhase, what: string, start: () => Promise<{ id: string }>): Promise<string> {
  const earlier = demo.get(phase);
  if (earlier) {
    console.log(`  carrying on with ${what} ${earlier}, started before the last interruption`);
    return earlier;
  }
  const { id } = await start();
  demo.set(phase, id);
  return id;
}

async function evaluate(api: AdminClient, p: Provider, version: number | "none", demo: Demo, phase: DemoPhase): Promise<Evaluation> {
  const id = await phaseId(demo, phase, "evaluation", () =>
    api.post<{ id: string }>("/evaluations", { agent: AGENT, dataset: p.test, versions: [version], k: 1, temperature: 0.7 }),
  );
  const bar = evaluationProgress();
  try {
    const e = await pollUntil(
      () => api.get<Evaluation>(`/evaluations/${id}`),
      (x) => isFinished(x.status),
      (x) => bar.update(x),
    );
    if (e.status !== "completed") {
      demo.drop(phase);
      throw new Error(`evaluation ${id} ended ${e.status}: ${e.error ?? "no reason given"}`);
    }
    return e;
  } finally {
    bar.stop();
  }
}

async function train(api: AdminClient, p: Provider, demo: Demo): Promise<Run> {
  const id = await phaseId(demo, "run", "run", () =>
    api.post<{ id: string }>("/runs", { agent: AGENT, dataset: p.train, epochs: 3, groupSize: 5, maxGroupsInFlight: 20, fromVersion: 0 }),
  );
  console.log(`  run ${id}`);
  const bar = runProgress();
  try {
    const run = await pollUntil(
      () => api.get<Run>(`/runs/${id}`),
      (r) => isFinished(r.status),
      (r) => bar.update(r),
    );
    if (run.status !== "completed") {
      demo.drop("run");
      throw new Error(`run ${id} ended ${run.status}: ${run.error ?? run.reason ?? "no reason given"}`);
    }
    return run;
  } finally {
    bar.stop();
  }
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function snippets(url: string, key: string, model: string, question: string): string {
  const body = JSON.stringify({ model, messages: [{ role: "user", content: question }] });
  return [
    "curl:",
    `  curl ${url}/v1/chat/completions \\`,
    `    -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `    -d ${shellQuote(body)}`,
    "",
    "openai SDK (JavaScript):",
    `  import OpenAI from "openai";`,
    `  const client = new OpenAI({ baseURL: "${url}/v1", apiKey: "${key}" });`,
    `  const completion = await client.chat.completions.create({`,
    `    model: "${model}",`,
    `    messages: [{ role: "user", content: ${JSON.stringify(question)} }],`,
    `  });`,
    `  console.log(completion.choices[0].message.content);`,
  ].join("\n");
}

async function demo(api: AdminClient, dev: WranglerDev, p: Provider): Promise<void> {
  const { agent, created } = await phase(
    "agent",
    `agent '${AGENT}' on ${p.real ? `${p.baseUrl} (${p.model})` : "the simulated model sim-1 (sim://local)"}`,
    () => ensureAgent(api, p),
  );
  console.log(`  ${created ? "created" : "reused"} ${agent.id}`);
  let version = agent.activeVersion;
  const progress = demoState(STATE_DIR);
  if (progress.interrupted) console.log("  the last demonstration was interrupted: carrying on where it was");

  if (version !== null && !RETRAIN && !progress.interrupted) {
    console.log(`  already trained: library version ${version} is active (pass --retrain to run the demonstration again)`);
  } else {
    await phase(
      "data",
      p.real ? `data sets: ${p.train}, ${p.test} (slices of the built-in ${p.builtin})` : "built-in data sets sim-train and sim-test",
      async () => {
        if (p.real) await ensureSlices(api, p);
        else for (const name of [p.train, p.test]) console.log(`  ${name}: ${await loadBuiltin(api, name)}`);
      },
    );
    const before = await phase("eval before", `evaluate the empty library on ${p.test} (Mean@1, temperature 0.7)`, () =>
      evaluate(api, p, "none", progress, "before"),
    );
    const run = await phase("train", `train 3 epochs on ${p.train} (G=5, 20 groups in flight)`, () => train(api, p, progress));
    if (run.latestVersion === null) throw new Error("the run completed without producing a library version");
    version = run.latestVersion;
    console.log(
      `  library version ${version} · Mean@G per batch ${meanTrail(run)} · groups kept ${run.groups.kept}, skipped ${run.groups.skipped}, dropped ${run.groups.dropped}`,
    );
    const after = await phase("eval after", `evaluate library version ${version} on ${p.test}`, () =>
      evaluate(api, p, version ?? 0, progress, "after"),
    );
    await phase("promote", `promote version ${version}`, () =>
      api.post(`/agents/${AGENT}/promote`, { version, reason: "npm start demonstration" }),
    );
    progress.done();

    const questions = before.progress.questions;
    console.log("");
    console.log(`Accuracy on ${p.test} (${questions} questions, Mean@1, temperature 0.7, same seeds):`);
    console.log(`  before: ${formatEvaluationVersion(before, 0)}  (no library)`);
    console.log(`  after:  ${formatEvaluationVersion(after, version)}  (library version ${version})`);
    if (!p.real) {
      const q = libraryQuality((await api.get<LibraryVersion>(`/agents/${AGENT}/library/versions/${version}`)).items);
      console.log(
        `  library precision: ${q.fixing} of ${q.total} items fix a pitfall (${(q.precision * 100).toFixed(0)}%), ${q.tokens} tokens injected per request`,
      );
    }
  }

  const key = await api.post<ProxyKey & { key: string }>(`/agents/${AGENT}/keys`, { name: `npm start ${new Date().toISOString()}` });
  if (version !== null) {
    const lib = await api.get<LibraryVersion>(`/agents/${AGENT}/library/versions/${version}`);
    console.log("");
    console.log(`Learned experiences (version ${version}, ${lib.items.length} items), served in front of every chat request:`);
    for (const item of lib.items) console.log(`  [${item.id}] ${item.name}: ${item.text}`);
  }
  const sample = await api.get<{ data: Sample[] }>(`/datasets/${p.test}/samples`, { limit: 1 }).catch(() => ({ data: [] as Sample[] }));
  const question = sample.data[0]?.question ?? "A shop sells pencils at 3 for $1. How much do 12 pencils cost?";
  console.log("");
  console.log(`Proxy key for agent '${AGENT}' (shown once): ${key.key}`);
  console.log("");
  console.log(snippets(dev.url, key.key, p.model, question));
}

async function main(): Promise<void> {
  const p = provider();
  const { vars, created } = ensureDevVars(DEV_VARS);
  if (created.length) console.log(`created ${DEV_VARS} with a fresh ${created.join(" and ")}`);
  if (await portInUse(PORT)) throw new Error(`port ${PORT} is in use; set PORT to another one (e.g. PORT=8790 npm start)`);

  let stack: Awaited<ReturnType<typeof keepStackUp>> | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping wrangler dev…`);
    // While the stack is still coming up, main stops it as soon as it is there.
    if (!stack) return;
    await stack.stop();
    console.log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  await buildDashboard();
  const inlineMax = process.env.TEXT_INLINE_MAX_BYTES;
  const devOptions = {
    port: PORT,
    persistDir: STATE_DIR,
    vars: {
      ADMIN_TOKEN: vars.ADMIN_TOKEN,
      ENCRYPTION_KEY: vars.ENCRYPTION_KEY,
      ...(inlineMax ? { TEXT_INLINE_MAX_BYTES: inlineMax } : {}),
    },
  };
  const direct = adminClient({ url: `http://127.0.0.1:${PORT}`, token: vars.ADMIN_TOKEN });
  stack = await phase("stack", `local stack: wrangler dev on port ${PORT}, state in ${STATE_DIR}`, () =>
    keepStackUp({
      start: (again) => startWranglerDev(again ? { ...devOptions, migrateBinding: null } : devOptions),
      afterStart: async () => {
        // Whatever was queued or running when the stack last stopped makes no progress by itself.
        const { data } = await direct.post<{ data: { kind: string; id: string; action: string }[] }>("/recovery", { olderThanSeconds: 0 });
        for (const r of data) console.log(`  recovered ${r.kind} ${r.id}: ${r.action}`);
      },
      log: (line) => console.log(`\n${line}`),
    }),
  );
  if (stopping) {
    await stack.stop();
    console.log("stopped");
    process.exit(0);
  }
  const dev = stack.dev();
  const api = throughRestarts(direct, stack);
  try {
    if (!NO_DEMO) await demo(api, dev, p);
  } catch (e) {
    console.error(`\nerror: ${e instanceof Error ? e.message : String(e)}`);
    await stack.stop();
    process.exit(1);
  }

  console.log("");
  console.log(`Dashboard:   ${dev.url}/ui/  (sign in with the admin token)`);
  console.log(`Admin API:   ${dev.url}/api  (OpenAPI: ${dev.url}/api/openapi.json)`);
  console.log(`Chat API:    ${dev.url}/v1/chat/completions`);
  console.log(`Admin token: ${vars.ADMIN_TOKEN}   (from ${DEV_VARS})`);
  console.log(`CLI:         TFGRPO_URL=${dev.url} TFGRPO_TOKEN=<admin token> npx tfgrpo agents list`);
  console.log("");
  console.log(`Timings: ${timings.map(([name, ms]) => `${name} ${secs(ms)}`).join(" · ")} · total ${secs(performance.now() - started)}`);
  console.log(`serving on ${dev.url} — Ctrl-C to stop`);
}

main().catch((e: unknown) => {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
