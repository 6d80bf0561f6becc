/**
 * Interrupted work finishes by itself (issue 16): `npm start` is interrupted (Ctrl-C) three times during
 * its training run — with groups in flight, during the batch update, and as the next epoch's wave is
 * being spawned — and started again each time. The run completes with the same library as a run that
 * was never interrupted, and no LLM call is paid twice: the standalone simulated model's own request log
 * shows every training request answered exactly as often as for the uninterrupted run (a request held
 * unanswered at an interruption may come again; one that was answered may not).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { adminClient, type Run } from "../../cli/adminClient";
import { freePort } from "../../scripts/lib/wranglerDev";
import { startSimServer, type RecordedRequest, type SimServer } from "../../scripts/simServer";
import { detectStage } from "../../src/sim/stages";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "tfgrpo-recovery-e2e-"));
const DEMO_KEY = "key-demo";
const STEADY_KEY = "key-steady";

/** Holds every request from the moment one matches the armed condition until `open()`. */
class Gate {
  private closed = false;
  private held: (() => void)[] = [];
  private trigger: ((r: RecordedRequest) => boolean) | null = null;
  private tripped: (() => void) | null = null;
  heldAtInterruptions = 0;

  arm(when: (r: RecordedRequest) => boolean): Promise<void> {
    this.trigger = when;
    return new Promise((r) => (this.tripped = r));
  }

  hold = (r: RecordedRequest): Promise<void> | void => {
    if (!this.closed && this.trigger?.(r)) {
      this.closed = true;
      this.trigger = null;
      this.tripped?.();
    }
    if (this.closed) return new Promise((release) => this.held.push(release));
  };

  open(): void {
    this.closed = false;
    this.heldAtInterruptions += this.held.length;
    for (const release of this.held.splice(0)) release();
  }
}

const gate = new Gate();
let sim: SimServer;
let current: { child: ChildProcess; out: () => string; closed: Promise<void> } | null = null;
/** What each start of npm start said it recovered, for the test's output. */
const recoveries: string[] = [];

const bodyOf = (r: RecordedRequest) => JSON.stringify(r.body);
const keyOf = (r: RecordedRequest) => r.headers.authorization?.replace(/^Bearer /, "") ?? "";
const messagesOf = (r: RecordedRequest) =>
  ((r.body as { messages?: { content: string }[] }).messages ?? []).map((m) => m.content).join("\n");
const isDemo = (r: RecordedRequest) => keyOf(r) === DEMO_KEY;
const stageOf = (r: RecordedRequest) => detectStage(messagesOf(r));

function startNpm(port: number): NonNullable<typeof current> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      TFGRPO_STATE_DIR: join(tmp, "state"),
      TFGRPO_DEV_VARS: join(tmp, "dev.vars"),
      TFGRPO_NO_DEMO: "",
      OPENAI_BASE_URL: sim.url,
      OPENAI_API_KEY: DEMO_KEY,
      MODEL: "sim-1",
      DATASET: "sim-train",
      TRAIN_ROWS: "12",
      EVAL_ROWS: "6",
      // Most texts go to R2, so recovery is tested with them there (docs/architecture.md §11).
      TEXT_INLINE_MAX_BYTES: "128",
    },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString("utf8")));
  child.stderr?.on("data", (b: Buffer) => (out += b.toString("utf8")));
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  current = { child, out: () => out, closed };
  return current;
}

async function untilOutput(proc: NonNullable<typeof current>, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.out())) {
    if (Date.now() > deadline) throw new Error(`npm start did not print ${pattern} within ${timeoutMs} ms:\n${proc.out()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits for the gate to trip; a run that does not get there in time (it stalled) fails the test. */
async function tripped(gateTrip: Promise<void>, proc: NonNullable<typeof current>, what: string, timeoutMs = 180_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the run never got to ${what} within ${timeoutMs} ms; npm start said:\n${proc.out()}`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([gateTrip, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ctrl-C, as a terminal sends it to the whole foreground group; resolves when npm start has exited. */
async function interrupt(proc: NonNullable<typeof current>): Promise<void> {
  if (proc.child.pid !== undefined) process.kill(-proc.child.pid, "SIGINT");
  const timer = setTimeout(() => proc.child.pid !== undefined && process.kill(-proc.child.pid, "SIGKILL"), 30_000);
  await proc.closed;
  clearTimeout(timer);
  current = null;
  recoveries.push(
    ...proc
      .out()
      .split("\n")
      .filter((l) => /recovered (run|evaluation) /.test(l))
      .map((l) => l.trim()),
  );
}

afterAll(async () => {
  if (current) await interrupt(current);
  gate.open();
  await sim?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("npm start interrupted three times during training", () => {
  it("finishes the run by itself, with the library of an uninterrupted run and no call paid twice", async () => {
    sim = await startSimServer({ latencyMs: 20, hold: gate.hold });
    const port = await freePort();
    const trainingRollouts = () => sim.requests.filter((r) => isDemo(r) && stageOf(r) === null).length;

    // 1. Groups in flight: a few rollouts into the first epoch.
    let proc = startNpm(port);
    await untilOutput(proc, /▸ train 3 epochs/, 240_000);
    const before = trainingRollouts();
    await tripped(
      gate.arm((r) => isDemo(r) && stageOf(r) === null && trainingRollouts() >= before + 25),
      proc,
      "25 rollouts",
    );
    // Replies already given are stored within moments; what the gate holds is never answered.
    await new Promise((r) => setTimeout(r, 1_500));
    await interrupt(proc);
    gate.open();

    // 2. The batch update: its consolidation call is held when the interruption comes.
    proc = startNpm(port);
    await tripped(
      gate.arm((r) => isDemo(r) && stageOf(r) === "batchUpdate"),
      proc,
      "its batch update",
    );
    // (The run may reach its batch update before npm start has printed what it did.)
    await untilOutput(proc, /recovered run run_\S+: /, 30_000);
    await untilOutput(proc, /carrying on with run run_/, 30_000);
    await new Promise((r) => setTimeout(r, 1_500));
    await interrupt(proc);
    gate.open();

    // 3. The next epoch's wave being spawned: Ctrl-C as its first group makes its first call.
    proc = startNpm(port);
    await tripped(
      gate.arm((r) => isDemo(r) && stageOf(r) === null),
      proc,
      "its next epoch",
    );
    await interrupt(proc);
    gate.open();

    // Started once more, npm start recovers the run, which finishes; the demonstration goes on to the end.
    proc = startNpm(port);
    await untilOutput(proc, /serving on http:\/\/127\.0\.0\.1:\d+ — Ctrl-C to stop/, 300_000);
    expect(proc.out()).toMatch(/recovered run run_\S+: /);
    const token = /ADMIN_TOKEN=(\S+)/.exec(readFileSync(join(tmp, "dev.vars"), "utf8"))?.[1] ?? "";
    const api = adminClient({ url: `http://127.0.0.1:${port}`, token });
    const { data: runs } = await api.get<{ data: Run[] }>("/runs", { agent: "demo", limit: 10 });
    expect(runs).toHaveLength(1);
    const crashed = runs[0]!;
    expect(crashed).toMatchObject({ status: "completed", error: null });
    // Its texts were read back from R2 across the interruptions.
    expect((await api.get<{ r2: { objects: number } }>(`/runs/${crashed.id}/storage`)).r2.objects).toBeGreaterThan(0);

    // The same run, never interrupted, for an agent that differs only in its upstream key.
    const demo = await api.get<{ systemPrompt: string; objective: string; verifier: unknown }>("/agents/demo");
    await api.post("/agents", {
      name: "steady",
      upstream: { baseUrl: sim.url, model: "sim-1", apiKey: STEADY_KEY },
      systemPrompt: demo.systemPrompt,
      objective: demo.objective,
      verifier: demo.verifier,
    });
    const { id: steadyId } = await api.post<{ id: string }>("/runs", {
      agent: "steady",
      dataset: "sim-train-train12",
      epochs: 3,
      groupSize: 5,
      maxGroupsInFlight: 20,
      fromVersion: 0,
    });
    let steady = await api.get<Run>(`/runs/${steadyId}`);
    for (const deadline = Date.now() + 240_000; steady.status === "queued" || steady.status === "running"; ) {
      if (Date.now() > deadline) throw new Error(`the uninterrupted run did not finish: ${JSON.stringify(steady.progress)}`);
      await new Promise((r) => setTimeout(r, 1_000));
      steady = await api.get<Run>(`/runs/${steadyId}`);
    }
    expect(steady.status).toBe("completed");

    const library = async (agent: string, version: number | null) =>
      (await api.get<{ items: { id: string; name: string; text: string }[] }>(`/agents/${agent}/library/versions/${version}`)).items.map(
        ({ id, name, text }) => ({ id, name, text }),
      );
    const learned = await library("demo", crashed.latestVersion);
    expect(learned.length).toBeGreaterThan(0);
    expect(learned).toEqual(await library("steady", steady.latestVersion));

    // Every training request the uninterrupted run made was answered exactly as often for the
    // interrupted one (the evaluations of the demonstration are other requests).
    const answered = (key: string) => {
      const counts = new Map<string, number>();
      for (const r of sim.requests) if (keyOf(r) === key && r.answered) counts.set(bodyOf(r), (counts.get(bodyOf(r)) ?? 0) + 1);
      return counts;
    };
    const steadyCalls = answered(STEADY_KEY);
    const demoCalls = answered(DEMO_KEY);
    const paidTwice = [...steadyCalls].filter(([body, n]) => (demoCalls.get(body) ?? 0) !== n);
    const requestedAgain = [...steadyCalls.keys()].filter(
      (body) => sim.requests.filter((r) => isDemo(r) && bodyOf(r) === body).length > 1,
    ).length;
    recoveries.push(
      ...proc
        .out()
        .split("\n")
        .filter((l) => /recovered (run|evaluation) /.test(l))
        .map((l) => l.trim()),
    );
    console.log(
      `recovery: ${recoveries.join("\n  ")}\n${steadyCalls.size} training calls; ${gate.heldAtInterruptions} held unanswered at the interruptions, ` +
        `${requestedAgain} requested again after them; ${paidTwice.length} answered a different number of times`,
    );
    expect(steadyCalls.size).toBeGreaterThan(100);
    expect(paidTwice).toEqual([]);
    // The interruptions did cut calls short (else they tested nothing).
    expect(gate.heldAtInterruptions).toBeGreaterThan(0);
    expect(requestedAgain).toBeGreaterThan(0);
  }, 1_200_000);
});
