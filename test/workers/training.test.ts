import { describe, expect, it } from "vitest";
import { renderLibrary, type Experience } from "../../src/core/library";
import { rolloutMessages } from "../../src/core/rollout";
import { inspectSimulatedModel } from "../../src/llm/upstream";
import { createSimulatedModel, simDataset, simToolDataset } from "../../src/sim";
import { verify } from "../../src/verifiers";
import { call, json } from "./helpers";
import { pct } from "./evalHelpers";
import { handLibrary } from "../fixtures/handWrittenLibraries";

const SYSTEM = "Solve the word problem step by step and give the final answer in \\boxed{}.";

type RunView = {
  id: string;
  status: string;
  reason: string | null;
  error: string | null;
  latestVersion: number;
  progress: { groupsDone: number; groupsTotal: number; rolloutsDone: number; rolloutsTotal: number };
  groups: { kept: number; skipped: number; dropped: number };
  batches: {
    epoch: number;
    batch: number;
    status: string;
    meanAtG: number;
    passAtG: number;
    version: number | null;
    promptTokens: number;
    completionTokens: number;
  }[];
  operations: Record<string, number>;
  llm: { stage: string; calls: number; attempts: number; promptTokens: number; completionTokens: number }[];
};

type RunStorage = { r2: { objects: number } };

async function createAgent(name: string, baseUrl = "sim://local") {
  const res = await call("POST", "/api/agents", {
    name,
    upstream: { baseUrl, model: "sim-1" },
    systemPrompt: SYSTEM,
    objective: "Answer arithmetic word problems exactly.",
    verifier: { kind: "math" },
  });
  expect(res.status).toBe(201);
}

/** The longest a test here waits for a run; each test's timeout covers it (see RUN_TEST_TIMEOUT). */
const RUN_WAIT_MS = 240_000;
/** One run wait, plus the held-out measurements and requests around it. */
const RUN_TEST_TIMEOUT = RUN_WAIT_MS + 60_000;

async function waitForRun(id: string, timeoutMs = RUN_WAIT_MS): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await json<RunView>(await call("GET", `/api/runs/${id}`));
    if (!["queued", "running"].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status}: ${JSON.stringify(run.progress)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function libraryOf(agent: string, version: number): Promise<Experience[]> {
  return (await json<{ items: Experience[] }>(await call("GET", `/api/agents/${agent}/library/versions/${version}`))).items;
}

/** Held-out accuracy on sim-test at temperature 0.7, one rollout per problem, library injected as served. */
async function heldOutAccuracy(items: Experience[]): Promise<number> {
  const sim = createSimulatedModel();
  const problems = simDataset("sim-test");
  let correct = 0;
  for (const [i, p] of problems.entries()) {
    const messages = rolloutMessages({ systemPrompt: SYSTEM, injectPosition: "after" }, p.question, items);
    const res = await sim.fetch(
      new Request("http://sim.local/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: "sim-1", messages, temperature: 0.7, seed: 1000 + i }),
      }),
    );
    const body = await json<{ choices: { message: { content: string } }[] }>(res);
    correct += verify(
      { kind: "math" },
      { response: body.choices[0]?.message.content ?? "", answer: p.answer, question: p.question },
    ).reward;
  }
  return correct / problems.length;
}

describe("training runs", () => {
  it("validates a run request before creating anything", async () => {
    await createAgent("validator");
    const cases: [unknown, number][] = [
      [{ agent: "validator", dataset: "missing" }, 404],
      [{ agent: "ghost", dataset: "sim-train" }, 404],
      [{ agent: "validator", dataset: "sim-train", groupSize: 0 }, 400],
      [{ agent: "validator", dataset: "sim-train", temperature: "hot" }, 400],
      [{ agent: "validator", dataset: "sim-train", fromVersion: 99 }, 404],
      [{ agent: "validator", dataset: "sim-train", surprise: 1 }, 400],
    ];
    expect((await call("POST", "/api/datasets/builtin/sim-train")).status).toBe(201);
    for (const [body, status] of cases) {
      const res = await call("POST", "/api/runs", body);
      expect(res.status, JSON.stringify(body)).toBe(status);
    }
    // More batches per segment than fit a segment's steps: refused before anything is stored.
    const tooLong = await call("POST", "/api/runs", { agent: "validator", dataset: "sim-train", batchSize: 10, segmentBatches: 1000 });
    expect(tooLong.status).toBe(400);
    const refusal = await json<{ error: { code: string; message: string; param: string } }>(tooLong);
    expect(refusal.error).toMatchObject({ code: "too_many_steps", param: "segmentBatches" });
    expect(refusal.error.message).toMatch(/at most \d+ batches fit one/);
    const runs = await json<{ data: unknown[] }>(await call("GET", "/api/runs"));
    expect(runs.data).toHaveLength(0);
  });

  it(
    "learns a library that raises held-out accuracy by at least 25 points",
    async () => {
      await createAgent("learner", "sim://local?scope=learner");
      const created = await call("POST", "/api/runs", {
        agent: "learner",
        dataset: "sim-train",
        epochs: 3,
        groupSize: 5,
        seed: 7,
        maxGroupsInFlight: 50,
      });
      expect(created.status).toBe(201);
      const { id } = await json<{ id: string }>(created);
      const run = await waitForRun(id);
      expect(run.error).toBeNull();
      expect(run.status).toBe("completed");
      expect(run.progress.groupsDone).toBe(run.progress.groupsTotal);
      expect(run.progress.rolloutsDone).toBe(run.progress.rolloutsTotal);
      expect(run.batches).toHaveLength(3);
      expect(run.groups.kept).toBeGreaterThan(0);
      expect(run.llm.map((s) => s.stage)).toEqual(
        expect.arrayContaining(["rollout", "summary", "advantage", "group_update", "batch_update"]),
      );
      // A group whose rewards are all equal carries no signal: it is skipped, and no reflection call is
      // spent on it (each group that is not skipped has its G rollouts summarised).
      expect(run.groups.skipped).toBeGreaterThan(0);
      const stageCalls = (stage: string) => run.llm.find((s) => s.stage === stage)?.calls ?? 0;
      expect(stageCalls("summary")).toBe(5 * (run.groups.kept + run.groups.dropped));
      expect(run.groups.kept + run.groups.skipped + run.groups.dropped).toBe(run.progress.groupsTotal);
      // The model's own log: every stored call was requested, and none twice.
      const requested = inspectSimulatedModel().calls("learner");
      expect(requested).toHaveLength(run.llm.reduce((n, s) => n + s.calls, 0));
      expect(requested.filter((c) => c.requests !== 1)).toEqual([]);
      // Every token is counted in exactly one batch of the learning curve: its groups' calls and its update's.
      const sum = (xs: { promptTokens: number; completionTokens: number }[]) =>
        xs.reduce<[number, number]>((n, x) => [n[0] + x.promptTokens, n[1] + x.completionTokens], [0, 0]);
      expect(sum(run.batches)).toEqual(sum(run.llm));
      for (const b of run.batches) expect(b.promptTokens, `epoch ${b.epoch} batch ${b.batch}`).toBeGreaterThan(0);

      const learned = await libraryOf("learner", run.latestVersion);
      expect(learned.length).toBeGreaterThan(0);
      for (const item of learned) {
        expect(item.id).toMatch(/^E\d+$/);
        expect(item.provenance[0]).toMatchObject({ runId: id });
        expect(item.text.split(/\s+/).length).toBeLessThanOrEqual(32);
      }
      const before = await heldOutAccuracy([]);
      const after = await heldOutAccuracy(learned);
      console.log(
        `held-out sim-test accuracy at T=0.7: ${(before * 100).toFixed(1)}% → ${(after * 100).toFixed(1)}% with ${learned.length} experiences`,
      );
      expect(after - before).toBeGreaterThanOrEqual(0.25);

      // Training never changes what the agent serves.
      const agent = await json<{ activeVersion: number | null }>(await call("GET", "/api/agents/learner"));
      expect(agent.activeVersion).toBeNull();

      // Versions are immutable and diffable with stable ids.
      const versions = await json<{ data: { version: number }[] }>(await call("GET", "/api/agents/learner/library/versions"));
      expect(versions.data.length).toBe(run.batches.filter((b) => b.status === "applied").length);
      const diff = await json<{ added: Experience[]; deleted: Experience[] }>(
        await call("GET", `/api/agents/learner/library/diff?from=0&to=${run.latestVersion}`),
      );
      expect(diff.added.map((e) => e.id).sort()).toEqual(learned.map((e) => e.id).sort());

      // Every rollout is inspectable with the version it was prompted with.
      const rollouts = await json<{ data: { promptVersion: number; response: string; reward: number }[] }>(
        await call("GET", `/api/runs/${id}/rollouts?epoch=2&limit=10`),
      );
      expect(rollouts.data).toHaveLength(10);
      expect(rollouts.data[0]?.response).toContain("\\boxed");
    },
    RUN_TEST_TIMEOUT,
  );

  it("renders the library as the chat endpoint will serve it", async () => {
    const items = await libraryOf("learner", 1);
    const messages = rolloutMessages({ systemPrompt: SYSTEM, injectPosition: "after" }, "Q?", items);
    expect(messages.filter((m) => m.role === "system")).toHaveLength(1);
    expect(messages[0]?.content).toContain(renderLibrary(items));
  });

  it("a hand-written library, in other words than the simulated model's, raises held-out accuracy like the learned one", async () => {
    const { latestVersion } = (
      await json<{ data: { latestVersion: number; agentId: string }[] }>(await call("GET", "/api/runs?agent=learner"))
    ).data[0]!;
    const learned = await libraryOf("learner", latestVersion);
    const before = await heldOutAccuracy([]);
    const after = await heldOutAccuracy(learned);
    for (const set of ["dev", "heldOut"] as const) {
      const hand = handLibrary(set, 1).map((e) => ({ ...e, provenance: [] }));
      const accuracy = await heldOutAccuracy(hand);
      console.log(
        `held-out sim-test accuracy at T=0.7 with the hand-written ${set} library: ${pct(accuracy)}% (none ${pct(before)}%, learned ${pct(after)}%)`,
      );
      expect(accuracy - before).toBeGreaterThanOrEqual(0.25);
      expect(Math.abs(accuracy - after)).toBeLessThanOrEqual(0.05);
    }
  }, 60_000);

  it(
    "produces the same library, item for item, when the model injects 20% faults",
    async () => {
      const knobs = "fault_rate=0.2&faults=429,500,hang,malformed&hang_ms=5000";
      await createAgent("steady");
      await createAgent("faulty", `sim://local?${knobs}`);
      await call("POST", "/api/datasets?name=small", simDataset("sim-train").slice(0, 20));
      const settings = { dataset: "small", epochs: 1, groupSize: 5, seed: 11, maxGroupsInFlight: 20, timeoutMs: 1000 };
      const seq0 = inspectSimulatedModel().seq;
      const [a, b] = await Promise.all(
        ["steady", "faulty"].map(async (agent) => json<{ id: string }>(await call("POST", "/api/runs", { agent, ...settings }))),
      );
      const [runA, runB] = await Promise.all([waitForRun(a!.id), waitForRun(b!.id)]);
      expect(runA.status).toBe("completed");
      expect(runB.status).toBe("completed");
      const strip = (items: Experience[]) => items.map((e) => ({ id: e.id, name: e.name, text: e.text }));
      const libA = strip(await libraryOf("steady", runA.latestVersion));
      const libB = strip(await libraryOf("faulty", runB.latestVersion));
      expect(libA.length).toBeGreaterThan(0);
      expect(libB).toEqual(libA);
      // With the workers configuration's threshold both runs kept part of their texts in R2 (docs/architecture.md §11).
      for (const id of [a!.id, b!.id])
        expect((await json<RunStorage>(await call("GET", `/api/runs/${id}/storage`))).r2.objects).toBeGreaterThan(0);
      const calls = (run: RunView) => run.llm.reduce((n, s) => n + s.calls, 0);
      const attempts = (run: RunView) => run.llm.reduce((n, s) => n + s.attempts, 0);
      expect(calls(runB)).toBe(calls(runA));

      // What the simulated model saw. The two runs send the same requests at the same time, but their
      // knobs put them in scopes of their own, with their own attempt counters.
      const sim = inspectSimulatedModel();
      const faulty = sim.scopes.find((s) => s.scope === `?${knobs}`);
      const steadyCalls = sim.calls("").filter((c) => c.firstSeq > seq0);
      expect(faulty).toBeDefined();
      const injected = Object.values(faulty!.firstAttemptFaults).reduce((x, y) => x + y, 0);
      console.log(
        `faulty run: ${calls(runB)} calls, ${faulty!.requests} requests (${attempts(runB)} attempts stored); ` +
          `faults on ${injected} of ${faulty!.firstAttempts} first attempts (${pct(injected / faulty!.firstAttempts)}%), by kind ${JSON.stringify(faulty!.faults)}`,
      );
      // Every call was requested, and faults made the faulty run ask more often than it has calls.
      expect(faulty!.calls).toBe(calls(runB));
      expect(faulty!.firstAttempts).toBe(calls(runB));
      expect(faulty!.requests).toBeGreaterThan(faulty!.calls);
      expect(attempts(runB)).toBeGreaterThan(calls(runB));
      // About 20% of first attempts fault: with ~200 calls the standard deviation is ~3 points; ±8 points is
      // the stated tolerance. Every configured kind occurs; the one not configured never does.
      expect(Math.abs(injected / faulty!.firstAttempts - 0.2)).toBeLessThanOrEqual(0.08);
      for (const kind of ["429", "500", "hang", "malformed"] as const) expect(faulty!.faults[kind], kind).toBeGreaterThan(0);
      expect(faulty!.faults.truncate).toBe(0);
      // The fault-free run asked exactly once per call.
      expect(steadyCalls).toHaveLength(calls(runA));
      expect(steadyCalls.filter((c) => c.requests !== 1)).toEqual([]);
      expect(attempts(runA)).toBe(calls(runA));
      expect(attempts(runB)).toBe(faulty!.requests);
    },
    RUN_TEST_TIMEOUT,
  );

  it(
    "produces the same library with tools on (the code tool) when the model injects 20% faults",
    async () => {
      // Its own knobs, so its calls count in a scope of their own.
      const knobs = "fault_rate=0.2&faults=429,500,hang,malformed&hang_ms=4000";
      for (const [name, baseUrl] of [
        ["steady-tools", "sim://local"],
        ["faulty-tools", `sim://local?${knobs}`],
      ] as const) {
        const res = await call("POST", "/api/agents", {
          name,
          upstream: { baseUrl, model: "sim-1" },
          systemPrompt: "Answer exactly. You may run JavaScript with execute_code. Give the final answer in \\boxed{}.",
          verifier: { kind: "math" },
          tools: [{ type: "code" }],
          maxTurns: 4,
        });
        expect(res.status).toBe(201);
      }
      await call("POST", "/api/datasets?name=small-tools", simToolDataset("sim-tools-train").slice(0, 12));
      const settings = { dataset: "small-tools", epochs: 1, groupSize: 3, seed: 11, maxGroupsInFlight: 12, timeoutMs: 1000 };
      const [a, b] = await Promise.all(
        ["steady-tools", "faulty-tools"].map(async (agent) =>
          json<{ id: string }>(await call("POST", "/api/runs", { agent, ...settings })),
        ),
      );
      const [runA, runB] = await Promise.all([waitForRun(a!.id), waitForRun(b!.id)]);
      expect(runA.status).toBe("completed");
      expect(runB.status).toBe("completed");
      const strip = (items: Experience[]) => items.map((e) => ({ id: e.id, name: e.name, text: e.text }));
      const libA = strip(await libraryOf("steady-tools", runA.latestVersion));
      const libB = strip(await libraryOf("faulty-tools", runB.latestVersion));
      expect(libA.length).toBeGreaterThan(0);
      expect(libB).toEqual(libA);
      // With the workers configuration's threshold both runs kept part of their texts in R2 (docs/architecture.md §11).
      for (const id of [a!.id, b!.id])
        expect((await json<RunStorage>(await call("GET", `/api/runs/${id}/storage`))).r2.objects).toBeGreaterThan(0);
      const calls = (run: RunView) => run.llm.reduce((n, s) => n + s.calls, 0);
      const attempts = (run: RunView) => run.llm.reduce((n, s) => n + s.attempts, 0);
      expect(calls(runB)).toBe(calls(runA));
      expect(attempts(runB)).toBeGreaterThan(calls(runB));
      // The same trajectories: tool calls and their results, rollout by rollout.
      type Stored = { sampleIdx: number; rolloutIdx: number; toolCalls: number; reward: number; messages: unknown[] | null };
      const trajectories = async (id: string) =>
        (await json<{ data: Stored[] }>(await call("GET", `/api/runs/${id}/rollouts?limit=100`))).data
          .map((r) => ({ key: `${r.sampleIdx}/${r.rolloutIdx}`, toolCalls: r.toolCalls, reward: r.reward, messages: r.messages }))
          .sort((x, y) => x.key.localeCompare(y.key));
      const [ta, tb] = [await trajectories(a!.id), await trajectories(b!.id)];
      expect(ta.reduce((n, r) => n + r.toolCalls, 0)).toBeGreaterThan(0);
      expect(tb).toEqual(ta);
      console.log(
        `tools on, 20% faults: ${libA.length} items identical; ${calls(runB)} calls, ${attempts(runB)} attempts (steady ${attempts(runA)}); ${ta.reduce((n, r) => n + r.toolCalls, 0)} tool calls in ${ta.length} rollouts, identical`,
      );
    },
    RUN_TEST_TIMEOUT,
  );

  it(
    "cancels a run cleanly, keeping the versions it made",
    async () => {
      await createAgent("quitter");
      const { id } = await json<{ id: string }>(
        await call("POST", "/api/runs", { agent: "quitter", dataset: "sim-train", epochs: 3, batchSize: 10, groupSize: 3 }),
      );
      const res = await call("POST", `/api/runs/${id}/cancel`);
      expect(res.status).toBe(200);
      const run = await waitForRun(id);
      expect(run.status).toBe("cancelled");
      expect((await call("POST", `/api/runs/${id}/cancel`)).status).toBe(409);
      const versions = await json<{ data: { version: number }[] }>(await call("GET", "/api/agents/quitter/library/versions"));
      expect(versions.data.length).toBeLessThan(30);
    },
    RUN_TEST_TIMEOUT,
  );
});
