/**
 * npm run bench:proxy — what the experience-augmented endpoint costs on top of a bare Worker.
 *
 * One run starts the simulated model (0 ms latency, its own process), our Worker under `wrangler dev`
 * (with DEBUG_COUNT_D1=1 so D1 round trips are counted inside the Worker), and a pass-through Worker
 * with no logic (bench/passthrough-worker) under `wrangler dev`. Then, for each target — direct to
 * the upstream, through the pass-through, through our endpoint — non-streamed and streamed requests at
 * concurrency 1 and 32: p50/p99 latency (request sent → body fully read), p50/p99 time to first body
 * byte for streams, requests per second, CPU time per request of each Worker's `wrangler dev` process
 * group (the Worker, its runtime, local D1 and the dev proxy; native work included), and for our
 * endpoint the D1 round trips per request in the
 * steady state (counters reset after warm-up, read after the measured window).
 *
 * The upstream does the same work for every target: requests sent direct or through the pass-through
 * already carry the library in their system message, as our endpoint's upstream requests do (the
 * simulated model reads the library, so a longer prompt costs it time). What differs is only the Worker.
 *
 * Options: --seconds N (measured time per target and config, default 3, split into --rounds windows,
 * default 6, taken in turns by the targets), --warmup N (requests, default 50), --items N (library
 * items injected, default 12), --concurrency 1,32, --aa (adds a second, identical pass-through Worker
 * as a fourth target: its difference from the first is the measurement's noise floor in the same run).
 *
 * --canary P adds a fifth target: our endpoint for an agent with a running canary (its candidate served to
 * P% of the traffic, sticky by an `x-user-id` header that changes from request to request, so both arms
 * are served); both our targets then send that header. The candidate's items equal the active version's,
 * so the upstream does the same work. For both, the D1 reads made during their own windows are counted
 * per request, and the canary's added p50 over our plain endpoint is estimated round by round
 * (docs/serving.md, "Canary"). --canary-off sets the fifth target up the same way but starts no canary:
 * the difference between two plain agents of our Worker, the noise floor of that comparison.
 *
 * Besides pooled percentiles, the added p50 is also estimated round by round (p50 of our endpoint's
 * window minus the pass-through's window in the same round) with a 95% bootstrap interval over rounds,
 * so a difference can be told from the noise between windows.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { injectInstructions, injectLibrary } from "../src/core/inject";
import { renderLibrary } from "../src/core/library";
import { bootstrapCI } from "../src/core/metrics";
import { FLUSH_DELAY_MS } from "../src/serving/usageLog";
import { groupCpuMs } from "./lib/processCpu";
import { startSimProcess } from "./lib/simProcess";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "./lib/wranglerDev";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    warmup: { type: "string", default: "50" },
    items: { type: "string", default: "12" },
    concurrency: { type: "string", default: "1,32" },
    rounds: { type: "string", default: "6" },
    aa: { type: "boolean", default: false },
    canary: { type: "string" },
    "canary-off": { type: "boolean", default: false },
    surfaces: { type: "string", default: "chat,responses,messages" },
  },
});
type Surface = "chat" | "responses" | "messages";
const SURFACE_LIST = values.surfaces.split(",") as Surface[];
const SURFACE_PATH: Record<Surface, string> = { chat: "/chat/completions", responses: "/responses", messages: "/messages" };
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const ITEMS = Number(values.items);
const CONCURRENCY = values.concurrency.split(",").map(Number);
const ROUNDS = Number(values.rounds);
const CANARY_PERCENT = values.canary === undefined ? null : Number(values.canary);

const ROOT = resolve(import.meta.dirname, "..");
const BASE_TARGET = "pass-through Worker";
const AA_TARGET = "2nd pass-through (A/A)";
const OURS = "our endpoint";
const CANARY_TARGET = "ours with a canary";
const ADMIN_TOKEN = "bench-admin-token";

type Sample = { latency: number; ttfb: number };
/** `roundP50`: the p50 of each round's window, for round-by-round differences. */
type Result = {
  target: string;
  mode: string;
  concurrency: number;
  n: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  ttfb50: number | null;
  ttfb99: number | null;
  cpu: number | null;
  d1: string;
  roundP50: number[];
  /** D1 reads counted in this target's own windows (our targets only). */
  windowReads: number | null;
};

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

const LIBRARY = Array.from({ length: ITEMS }, (_, i) => ({
  id: `E${i + 1}`,
  name: `Lesson ${i + 1}`,
  text: `When a problem of kind ${i + 1} appears, check the boundary cases and units before answering.`,
}));

const SYSTEM = "You are a careful assistant. Answer briefly.";

/**
 * `injected`: the library already where our endpoint puts it upstream (the system message, the
 * Responses API's `instructions`, the Messages API's `system`), so the upstream does the same work.
 */
function requestBody(surface: Surface, stream: boolean, i: number, injected: boolean): string {
  const question = `What is ${i % 97} + ${(i * 7) % 89}?`;
  const system = injected ? injectInstructions(SYSTEM, renderLibrary(LIBRARY)) : SYSTEM;
  if (surface === "responses")
    return JSON.stringify({ model: "sim-1", seed: i % 64, instructions: system, input: question, ...(stream ? { stream: true } : {}) });
  if (surface === "messages") {
    return JSON.stringify({
      model: "sim-1",
      seed: i % 64,
      max_tokens: 400,
      system,
      messages: [{ role: "user", content: question }],
      ...(stream ? { stream: true } : {}),
    });
  }
  const messages = [
    { role: "system", content: SYSTEM },
    { role: "user", content: question },
  ];
  return JSON.stringify({
    model: "sim-1",
    seed: i % 64,
    messages: injected ? injectLibrary(messages, renderLibrary(LIBRARY)) : messages,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

/** `pgid`: the process group of the target's `wrangler dev`, whose CPU time is counted. */
type Target = {
  name: string;
  url: string;
  headers: Record<string, string>;
  injected: boolean;
  pgid?: number;
  surface: Surface;
  /** Sends `x-user-id: user-<i mod 1000>` (the canary's sticky header). */
  users?: boolean;
};

async function one({ url, headers, injected, surface, users }: Target, stream: boolean, i: number): Promise<Sample> {
  const body = requestBody(surface, stream, i, injected);
  const t0 = performance.now();
  const res = await fetch(`${url}${SURFACE_PATH[surface]}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers, ...(users ? { "x-user-id": `user-${i % 1000}` } : {}) },
    body,
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const reader = res.body.getReader();
  let ttfb = Number.NaN;
  for (;;) {
    const { done } = await reader.read();
    if (Number.isNaN(ttfb)) ttfb = performance.now() - t0;
    if (done) break;
  }
  return { latency: performance.now() - t0, ttfb };
}

/** Warms a target up, then returns a runner for measured windows of the given length. */
async function load(target: Target, stream: boolean, concurrency: number, warmup: number) {
  let i = 0;
  for (let w = 0; w < warmup; w += concurrency)
    await Promise.all(Array.from({ length: concurrency }, () => one(target, stream, i++).catch(() => null)));
  return async (seconds: number) => {
    const samples: Sample[] = [];
    let errors = 0;
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          try {
            samples.push(await one(target, stream, i++));
          } catch {
            errors++;
          }
        }
      }),
    );
    return { samples, errors, elapsed: (performance.now() - started) / 1000 };
  };
}

async function admin<T>(dev: WranglerDev, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${dev.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

type D1Counts = { roundTrips: number; reads: number; writes: number; batches: number };

async function main() {
  const sim = await startSimProcess();
  const cleanups: (() => Promise<void>)[] = [sim.stop];
  try {
    console.error("starting wrangler dev (ours and pass-through)…");
    const startPassthrough = () =>
      startWranglerDev({ cwd: resolve(ROOT, "bench/passthrough-worker"), migrateBinding: null, vars: { UPSTREAM: sim.url } });
    const [ours, passthrough, second] = await Promise.all([
      startWranglerDev({ vars: { ADMIN_TOKEN, ENCRYPTION_KEY: randomEncryptionKey(), DEBUG_COUNT_D1: "1" } }),
      startPassthrough(),
      values.aa ? startPassthrough() : undefined,
    ]);
    cleanups.push(ours.stop, passthrough.stop);
    if (second) cleanups.push(second.stop);

    const agent = await admin<{ id: string }>(ours, "POST", "/agents", {
      name: "bench",
      upstream: { baseUrl: sim.url, model: "sim-1", apiKey: "sk-bench" },
    });
    // The Messages surface needs an agent whose upstream speaks Anthropic's format (the same model).
    const anthropicAgent = await admin<{ id: string }>(ours, "POST", "/agents", {
      name: "bench-an",
      upstream: { baseUrl: sim.url, model: "sim-1", apiKey: "sk-bench", format: "anthropic" },
    });
    // Keys with limits, so that the rate limiter and the daily token check run on every request.
    const limits = { requestsPerMinute: 60000, tokensPerDay: 1_000_000_000 };
    const key = await admin<{ key: string }>(ours, "POST", "/agents/bench/keys", limits);
    const anthropicKey = await admin<{ key: string }>(ours, "POST", "/agents/bench-an/keys", limits);
    // With --canary: the same two agents again, each with a second version (the same items, so the
    // upstream does the same work) canaried at the given percent.
    const canaryAgents =
      CANARY_PERCENT === null
        ? null
        : {
            openai: await admin<{ id: string }>(ours, "POST", "/agents", {
              name: "bench-canary",
              upstream: { baseUrl: sim.url, model: "sim-1", apiKey: "sk-bench" },
            }),
            anthropic: await admin<{ id: string }>(ours, "POST", "/agents", {
              name: "bench-an-canary",
              upstream: { baseUrl: sim.url, model: "sim-1", apiKey: "sk-bench", format: "anthropic" },
            }),
          };
    const canaryKeys = canaryAgents && {
      openai: await admin<{ key: string }>(ours, "POST", "/agents/bench-canary/keys", limits),
      anthropic: await admin<{ key: string }>(ours, "POST", "/agents/bench-an-canary/keys", limits),
    };
    const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
    const version = (id: string, v: number) => [
      `INSERT INTO library_versions (agent_id, version, origin_key, item_count) VALUES (${q(id)}, ${v}, 'bench/${v}', ${ITEMS})`,
      ...LIBRARY.map(
        (item, i) =>
          `INSERT INTO library_items (agent_id, version, position, item_id, name, text, provenance) VALUES (${q(id)}, ${v}, ${i}, ${q(item.id)}, ${q(item.name)}, ${q(item.text)}, '[]')`,
      ),
    ];
    const canaryIds = canaryAgents ? [canaryAgents.openai.id, canaryAgents.anthropic.id] : [];
    ours.d1Execute(
      [agent.id, anthropicAgent.id, ...canaryIds]
        .flatMap((id) => [
          ...version(id, 1),
          ...(canaryIds.includes(id) ? version(id, 2) : []),
          `UPDATE agents SET active_version = 1 WHERE id = ${q(id)}`,
        ])
        .join("; "),
    );
    for (const name of canaryAgents && !values["canary-off"] ? ["bench-canary", "bench-an-canary"] : [])
      await admin(ours, "PUT", `/agents/${name}/canary`, { version: 2, percent: CANARY_PERCENT, stickyBy: "header:x-user-id" });

    const results: Result[] = [];
    for (const surface of SURFACE_LIST) {
      const ourKey: Record<string, string> =
        surface === "messages" ? { "x-api-key": anthropicKey.key } : { authorization: `Bearer ${key.key}` };
      const targets: Target[] = [
        { name: "direct (sim)", url: sim.url, headers: {}, injected: true, surface },
        { name: BASE_TARGET, url: `${passthrough.url}/v1`, headers: {}, injected: true, pgid: passthrough.pgid, surface },
        { name: OURS, url: `${ours.url}/v1`, headers: ourKey, injected: false, pgid: ours.pgid, surface, users: canaryKeys !== null },
      ];
      if (canaryKeys) {
        const canaryKey: Record<string, string> =
          surface === "messages" ? { "x-api-key": canaryKeys.anthropic.key } : { authorization: `Bearer ${canaryKeys.openai.key}` };
        targets.push({
          name: CANARY_TARGET,
          url: `${ours.url}/v1`,
          headers: canaryKey,
          injected: false,
          pgid: ours.pgid,
          surface,
          users: true,
        });
      }
      if (second) targets.push({ name: AA_TARGET, url: `${second.url}/v1`, headers: {}, injected: true, pgid: second.pgid, surface });
      for (const stream of [false, true]) {
        for (const concurrency of CONCURRENCY) {
          // Targets take turns in short windows (rotating the order each round), so load that drifts on a
          // shared machine hits all three alike; percentiles are over the pooled samples of all rounds.
          const runs: {
            target: Target;
            run: (seconds: number) => Promise<{ samples: Sample[]; errors: number; elapsed: number }>;
            samples: Sample[];
            roundP50: number[];
            errors: number;
            elapsed: number;
            reads: number;
          }[] = [];
          for (const target of targets)
            runs.push({
              target,
              run: await load(target, stream, concurrency, WARMUP),
              samples: [],
              roundP50: [],
              errors: 0,
              elapsed: 0,
              reads: 0,
            });
          await admin(ours, "POST", "/serving/stats/reset");
          const countedFrom = performance.now();
          // CPU of each dev server while its target runs, less its idle rate (measured while the other
          // targets run), per request: what one request costs that Worker, native work included.
          const cpu = runs.map(() => ({ active: 0, activeMs: 0, idle: 0, idleMs: 0 }));
          const cpuNow = () => runs.map((r) => (r.target.pgid === undefined ? 0 : groupCpuMs(r.target.pgid)));
          for (let round = 0; round < ROUNDS; round++) {
            for (let k = 0; k < runs.length; k++) {
              const active = (k + round) % runs.length;
              const r = runs[active]!;
              // Our Worker's D1 reads during this window alone (the counters are the Worker's, not the agent's).
              const ourWindow = r.target.name === OURS || r.target.name === CANARY_TARGET;
              const readsBefore = ourWindow ? (await admin<{ d1: D1Counts }>(ours, "GET", "/serving/stats")).d1.reads : 0;
              const before = cpuNow();
              const window = await r.run(SECONDS / ROUNDS);
              const after = cpuNow();
              if (ourWindow) r.reads += (await admin<{ d1: D1Counts }>(ours, "GET", "/serving/stats")).d1.reads - readsBefore;
              for (const [i, c] of cpu.entries()) {
                const used = (after[i] ?? 0) - (before[i] ?? 0);
                if (i === active) {
                  c.active += used;
                  c.activeMs += window.elapsed * 1000;
                } else if (runs[i]?.target.pgid !== r.target.pgid) {
                  // Idle: another Worker is measured (a window of the same Worker, the canary target, is not idle time).
                  c.idle += used;
                  c.idleMs += window.elapsed * 1000;
                }
              }
              r.samples.push(...window.samples);
              r.roundP50.push(
                pct(
                  window.samples.map((x) => x.latency).sort((a, b) => a - b),
                  50,
                ),
              );
              r.errors += window.errors;
              r.elapsed += window.elapsed;
            }
          }
          // Let the usage log's delayed flush land inside the counted window.
          await new Promise((r) => setTimeout(r, FLUSH_DELAY_MS + 300));
          const stats = await admin<{ d1: D1Counts }>(ours, "GET", "/serving/stats");
          const wall = (performance.now() - countedFrom) / 1000;
          for (const [index, r] of runs.entries()) {
            const c = cpu[index]!;
            const perRequest =
              r.target.pgid === undefined
                ? null
                : (c.active - (c.idle / Math.max(1, c.idleMs)) * c.activeMs) / Math.max(1, r.samples.length);
            let d1 = "";
            if (r.target.name === OURS) {
              const n = r.samples.length + r.errors;
              const per = (x: number) => (x / n).toFixed(4);
              // Reads are time-driven (key re-check every TTL/2), not request-driven: also give their rate.
              d1 = `${per(stats.d1.roundTrips)} round trips/req over ${n} req; reads ${per(stats.d1.reads)}/req (${stats.d1.reads} in ${wall.toFixed(1)} s wall, one per ${(wall / Math.max(1, stats.d1.reads)).toFixed(1)} s); usage-log batches ${per(stats.d1.batches)}/req (${stats.d1.batches} batches, ${stats.d1.writes} write statements)`;
            }
            const lat = r.samples.map((s) => s.latency).sort((a, b) => a - b);
            const ttfb = r.samples.map((s) => s.ttfb).sort((a, b) => a - b);
            results.push({
              target: r.target.name,
              mode: `${surface} ${stream ? "stream" : "json"}`,
              concurrency,
              n: r.samples.length,
              errors: r.errors,
              rps: r.samples.length / r.elapsed,
              p50: pct(lat, 50),
              p99: pct(lat, 99),
              ttfb50: stream ? pct(ttfb, 50) : null,
              ttfb99: stream ? pct(ttfb, 99) : null,
              cpu: perRequest,
              d1,
              roundP50: r.roundP50,
              windowReads: r.target.name === OURS || r.target.name === CANARY_TARGET ? r.reads : null,
            });
            const x = results.at(-1)!;
            console.error(`${x.mode} c=${x.concurrency} ${x.target}: n=${x.n} p50=${x.p50.toFixed(2)} p99=${x.p99.toFixed(2)} ${x.d1}`);
          }
        }
      }
    }

    const f = (x: number | null) => (x === null ? "-" : x.toFixed(2));
    console.log("\nmode             conc  target                   n      err  req/s     p50 ms   p99 ms   ttfb p50  ttfb p99  CPU ms/req");
    for (const r of results) {
      console.log(
        `${r.mode.padEnd(16)} ${String(r.concurrency).padStart(4)}  ${r.target.padEnd(23)} ${String(r.n).padStart(6)} ${String(r.errors).padStart(4)}  ${r.rps.toFixed(0).padStart(7)}  ${f(r.p50).padStart(7)}  ${f(r.p99).padStart(7)}  ${f(r.ttfb50).padStart(8)}  ${f(r.ttfb99).padStart(8)}  ${f(r.cpu).padStart(10)}`,
      );
    }
    console.log("\nadded over the pass-through Worker (goal for our endpoint: p50 ≤ 1 ms, p99 ≤ 5 ms); p50 round by round: mean [95% CI]:");
    for (const r of results.filter((x) => x.target === OURS || x.target === AA_TARGET || x.target === CANARY_TARGET)) {
      const base = results.find((x) => x.target === BASE_TARGET && x.mode === r.mode && x.concurrency === r.concurrency);
      if (!base) continue;
      const diffs = r.roundP50.map((x, i) => x - (base.roundP50[i] ?? Number.NaN)).filter(Number.isFinite);
      const mean = diffs.reduce((a, b) => a + b, 0) / Math.max(1, diffs.length);
      const ci = bootstrapCI(diffs, { seed: 1 });
      const rounds = `, by round ${f(mean)} [${f(ci.low)}, ${f(ci.high)}] ms`;
      const ttfb = r.ttfb50 !== null && base.ttfb50 !== null ? `, ttfb p50 ${f(r.ttfb50 - base.ttfb50)} ms` : "";
      const cpu = r.cpu !== null && base.cpu !== null ? `, CPU ${f(r.cpu - base.cpu)} ms/req` : "";
      const who = r.target === AA_TARGET ? "A/A    " : r.target === CANARY_TARGET ? "canary " : "ours   ";
      console.log(
        `  ${who} ${r.mode.padEnd(16)} c=${String(r.concurrency).padEnd(3)} p50 ${f(r.p50 - base.p50)} ms${rounds}, p99 ${f(r.p99 - base.p99)} ms${ttfb}${cpu}`,
      );
    }
    console.log("\nD1 per request on our endpoint in the steady state (after warm-up):");
    for (const r of results.filter((x) => x.target === OURS))
      console.log(`  ${r.mode.padEnd(16)} c=${String(r.concurrency).padEnd(3)} ${r.d1}`);
    if (CANARY_PERCENT !== null) {
      console.log(
        values["canary-off"]
          ? "\na second plain agent (set up as for a canary, none started), against our plain endpoint in the same rounds:"
          : `\nwith a canary at ${CANARY_PERCENT}% (sticky by x-user-id), against our plain endpoint in the same rounds:`,
      );
      for (const r of results.filter((x) => x.target === CANARY_TARGET)) {
        const plain = results.find((x) => x.target === OURS && x.mode === r.mode && x.concurrency === r.concurrency);
        if (!plain) continue;
        const diffs = r.roundP50.map((x, i) => x - (plain.roundP50[i] ?? Number.NaN)).filter(Number.isFinite);
        const mean = diffs.reduce((a, b) => a + b, 0) / Math.max(1, diffs.length);
        const ci = bootstrapCI(diffs, { seed: 1 });
        const reads = (x: Result) =>
          `${x.windowReads} in ${x.n + x.errors} req (${((x.windowReads ?? 0) / Math.max(1, x.n + x.errors)).toFixed(4)}/req)`;
        const cpu = r.cpu !== null && plain.cpu !== null ? `, CPU ${f(r.cpu - plain.cpu)} ms/req` : "";
        console.log(
          `  ${r.mode.padEnd(16)} c=${String(r.concurrency).padEnd(3)} p50 ${f(r.p50)} vs ${f(plain.p50)} ms, added by round ${f(mean)} [${f(ci.low)}, ${f(ci.high)}] ms, p99 ${f(r.p99 - plain.p99)} ms${cpu}; D1 reads in own windows: canary ${reads(r)}, plain ${reads(plain)}`,
        );
      }
    }
  } finally {
    for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
  }
}

await main();
