import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PITFALL_IDS, pitfallById } from "../../src/sim/pitfalls";
import { simDataset } from "../../src/sim";
import { db } from "../../src/db/client";
import { applyRetention } from "../../src/db/lifecycle";
import { HAND_WRITTEN, type HandItem } from "../fixtures/handWrittenLibraries";
import { call, expectErrorShape, json } from "./helpers";
import {
  covering,
  createSimAgent,
  pct,
  promotionsOf,
  proxyChat,
  waitFor,
  waitForEvaluation,
  waitForRun,
  type EvaluationView,
} from "./evalHelpers";

/**
 * The replay comparison on captured traffic (docs/ownership.md, "Replay gate"), with the simulated
 * model: real requests go through the proxy and are captured; hand-made libraries are made with the
 * manual-version route; the candidate and the baseline answer the held-out captures G times each, and
 * the simulated model judges the answers without a label, by the soundness of their steps.
 */

/** The wrong rule for every pitfall, in our own words, and remarks that name a topic only. */
const HARMFUL: HandItem[] = [
  ...PITFALL_IDS.map((id) => HAND_WRITTEN[id].misleading[0]!),
  ...PITFALL_IDS.slice(0, 3).map((id) => pitfallById(id).topicOnly),
];
/** The right technique for every pitfall, in words the simulated model never wrote. */
const HELPFUL: HandItem[] = PITFALL_IDS.map((id) => HAND_WRITTEN[id].heldOut[0]!);

const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;

/** Real traffic through the proxy: `count` sim-test questions, captured by the agent. */
async function traffic(agent: string, from: number, count: number): Promise<string[]> {
  const { key } = await json<{ key: string }>(await call("POST", `/api/agents/${agent}/keys`, {}));
  const ids: string[] = [];
  for (const p of simDataset("sim-test").slice(from, from + count)) {
    const res = await proxyChat(key, p.question, { temperature: 0.7 });
    expect(res.status).toBe(200);
    await res.text();
    ids.push(res.headers.get("x-request-id") ?? "");
  }
  const { id } = await json<{ id: string }>(await call("GET", `/api/agents/${agent}`));
  await waitFor(
    `${agent} captures`,
    () => rows<{ n: number }>("SELECT count(*) AS n FROM captures WHERE agent_id = ?", id),
    (r) => r[0]?.n === count,
  );
  return ids;
}

async function handMade(agent: string, items: HandItem[]): Promise<number> {
  const res = await call("POST", `/api/agents/${agent}/library/versions`, {
    base: 0,
    operations: items.map((i) => ({ op: "add", name: i.name, text: i.text })),
    author: "test",
    reason: "hand-made library",
  });
  const body = await json<{ version: number }>(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.version;
}

type ReplayView = EvaluationView & {
  kind: string;
  replay: { captures: number; judge: string; judgeModel: string | null } | null;
  perQuestion?: { sampleId: string | null }[];
};

async function replay(body: Record<string, unknown>): Promise<ReplayView> {
  const res = await call("POST", "/api/evaluations", { kind: "replay", ...body });
  const started = await json<{ id: string }>(res);
  expect(res.status, JSON.stringify(started)).toBe(201);
  const done = await waitForEvaluation(started.id, 110_000);
  expect(done.error).toBeNull();
  expect(done.status).toBe("completed");
  const view = await json<ReplayView>(await call("GET", `/api/evaluations/${started.id}?detail=1`));
  const [a, b] = view.versions;
  console.log(
    `replay ${a!.label} vs ${b!.label} (${view.replay?.judge}) on ${view.questions} captures, G=${(view as unknown as { params: { k: number } }).params.k}: ` +
      `${pct(a!.meanAtK)} vs ${pct(b!.meanAtK)}, paired diff ${pct(view.paired!.diff)} [${pct(view.paired!.ci95.low)}, ${pct(view.paired!.ci95.high)}]`,
  );
  return view;
}

describe("replay comparison on captured traffic", () => {
  it("setup: 30 captured requests and two hand-made libraries", async () => {
    await createSimAgent("replayer", { capture: { enabled: true, retentionDays: 7 }, allowedModels: ["sim-judge"] });
    await traffic("replayer", 0, 30);
    expect(await handMade("replayer", HARMFUL)).toBe(1);
    expect(await handMade("replayer", HELPFUL)).toBe(2);
  }, 60_000);

  it(
    "a harmful library loses against no library, a helpful one wins, judged by the group-relative critique",
    async () => {
      const harmful = await replay({ agent: "replayer", versions: [1, "none"], sample: 30, G: 4 });
      expect(harmful).toMatchObject({ kind: "replay", replay: { captures: 30, judge: "critique", judgeModel: null }, questions: 30 });
      expect(harmful.paired!.diff).toBeLessThanOrEqual(-0.1);
      expect(harmful.paired!.ci95.high).toBeLessThan(0);
      const helpful = await replay({ agent: "replayer", versions: [2, "none"], sample: 30, G: 4 });
      expect(helpful.paired!.diff).toBeGreaterThanOrEqual(0.1);
      expect(helpful.paired!.ci95.low).toBeGreaterThan(0);
      // The questions judged are the captured requests, by their request ids.
      const captured = (await rows<{ request_id: string }>("SELECT request_id FROM captures")).map((r) => r.request_id).sort();
      expect(harmful.perQuestion!.map((q) => q.sampleId).sort()).toEqual(captured);
    },
    covering(2, 100_000),
  );

  it(
    "judged pairwise by a judge model, the helpful library beats the harmful one",
    async () => {
      const pairwise = await replay({ agent: "replayer", versions: [2, 1], sample: 20, G: 2, judge: "pairwise", judgeModel: "sim-judge" });
      expect(pairwise.replay).toEqual({ captures: 20, judge: "pairwise", judgeModel: "sim-judge" });
      expect(pairwise.paired!.diff).toBeGreaterThan(0.2);
      expect(pairwise.paired!.ci95.low).toBeGreaterThan(0);
      // The judge model was asked: the judging calls are recorded under the evaluation's stages.
      const stages = await rows<{ stage: string; n: number }>(
        "SELECT stage, count(*) AS n FROM llm_calls WHERE owner_id = (SELECT id FROM evaluations WHERE params LIKE '%sim-judge%') GROUP BY stage ORDER BY stage",
      );
      expect(stages).toEqual([
        { stage: "replay", n: 2 * 20 * 2 },
        { stage: "replay_judge", n: 20 * 2 },
      ]);
    },
    covering(1, 60_000),
  );

  it("replays only held-out captures: none whose question a compared version was trained on", async () => {
    const { id: agentId } = await json<{ id: string }>(await call("GET", "/api/agents/replayer"));
    const questions = simDataset("sim-test")
      .slice(0, 5)
      .map((p) => ({ question: p.question, answer: p.answer }));
    const upload = await call("POST", "/api/datasets?name=overlap", questions);
    expect(upload.status).toBe(201);
    const { id: datasetId } = await json<{ id: string }>(upload);
    // Version 3 as a run on that data set would have left it (the run itself is not what is tested here).
    await env.DB.batch([
      env.DB.prepare("INSERT INTO runs (id, agent_id, dataset_id, params, status) VALUES ('run_overlap', ?, ?, '{}', 'completed')").bind(
        agentId,
        datasetId,
      ),
      env.DB.prepare(
        "INSERT INTO library_versions (agent_id, version, parent_version, run_id, origin_key, item_count) VALUES (?, 3, NULL, 'run_overlap', 'run_overlap/e1/b0', 0)",
      ).bind(agentId),
    ]);
    const res = await call("POST", "/api/evaluations", { kind: "replay", agent: "replayer", versions: [3, 2], sample: 200, G: 1 });
    const { id } = await json<{ id: string }>(res);
    expect(res.status).toBe(201);
    const view = await json<ReplayView>(await call("GET", `/api/evaluations/${id}`));
    expect(view.replay?.captures).toBe(25);
    await waitForEvaluation(id, 110_000);
  }, 140_000);

  it("refuses what it cannot replay with 400 (or 404), naming the field", async () => {
    const refused = async (body: Record<string, unknown>, status: number, message: RegExp, param?: string) => {
      const res = await call("POST", "/api/evaluations", { kind: "replay", ...body });
      const error = await json(res);
      expect(res.status, JSON.stringify(error)).toBe(status);
      expectErrorShape(error);
      expect(error.error.message).toMatch(message);
      if (param) expect(error.error.param).toBe(param);
    };
    await createSimAgent("private");
    await refused({ agent: "private", versions: [0, "none"] }, 400, /a replay compares two different versions/, "versions");
    await handMade("private", HELPFUL);
    await refused({ agent: "private", versions: [1, "none"] }, 400, /does not capture its traffic/, "agent");
    await createSimAgent("quiet", { capture: { enabled: true, retentionDays: 1 } });
    await handMade("quiet", HELPFUL);
    await refused({ agent: "quiet", versions: [1, "none"] }, 400, /no captured request to replay/, "sample");
    await refused({ agent: "quiet", versions: [9, "none"] }, 404, /library version '9'/);
    await refused(
      { agent: "quiet", versions: [1, "none"], judgeModel: "gpt-x" },
      400,
      /judgeModel must be the agent's upstream model/,
      "judgeModel",
    );
    await refused({ agent: "quiet", versions: [1, "none"], G: 9 }, 400, /G/);
    await refused({ agent: "quiet", versions: [1], sample: 5 }, 400, /versions/);
    await refused({ agent: "quiet", versions: [1, "none"], dataset: "x" }, 400, /dataset/);
    const evaluations = await rows<{ n: number }>(
      "SELECT count(*) AS n FROM evaluations WHERE agent_id IN (SELECT id FROM agents WHERE name IN ('private', 'quiet'))",
    );
    expect(evaluations[0]?.n).toBe(0);
  });
});

describe("the replay gate", () => {
  /** A hand-made version 1 gated by replay: a run from it on text the simulated model cannot learn from ends on it unchanged. */
  async function gateHandMade(agent: string, items: HandItem[], servedModel?: string) {
    await createSimAgent(agent, {
      capture: { enabled: true, retentionDays: 7 },
      gate: { kind: "replay", sample: 24, G: 4, margin: 0.02 },
    });
    await traffic(agent, 40, 24);
    expect(await handMade(agent, items)).toBe(1);
    // The agent moves to another model after the version was made: the gate's decision must say so.
    if (servedModel) expect((await call("PATCH", `/api/agents/${agent}`, { upstream: { model: servedModel } })).status).toBe(200);
    const { id } = await json<{ id: string }>(
      await call("POST", "/api/runs", { agent, dataset: "unlearnable", fromVersion: 1, epochs: 1, groupSize: 2 }),
    );
    const run = await waitForRun(id);
    expect(run).toMatchObject({ status: "completed", latestVersion: 1 });
    const promotions = await waitFor(
      `${agent} gate decision`,
      () => promotionsOf(agent),
      (p) => p.data.length > 0,
      110_000,
    );
    const decision = promotions.data[0]!;
    const evaluation = await json<ReplayView>(await call("GET", `/api/evaluations/${decision.evaluationId}`));
    console.log(`${agent}: replay gate v1 vs none → ${decision.decision}: ${decision.reason}`);
    expect(evaluation).toMatchObject({ kind: "replay", purpose: "gate", runId: id });
    return { decision, active: promotions.active };
  }

  it(
    "refuses a harmful hand-made library and promotes a helpful one, each decision recorded with its figures",
    async () => {
      const res = await call("POST", "/api/datasets?name=unlearnable", [
        { question: "Name the capital of France.", answer: "Paris" },
        { question: "Which colour is the sky on a clear day?", answer: "blue" },
      ]);
      expect(res.status).toBe(201);
      const [harmful, helpful] = await Promise.all([gateHandMade("gate-harm", HARMFUL), gateHandMade("gate-help", HELPFUL, "sim-1b")]);
      expect(harmful.decision).toMatchObject({ decidedBy: "gate", decision: "refused", toVersion: 1 });
      expect(harmful.decision.reason).toMatch(/not better/);
      expect(harmful.decision.figures).toMatchObject({ candidateVersion: 1, activeVersion: 0, questions: 24, k: 4, margin: 0.02 });
      expect(harmful.active).toBeNull();
      expect(helpful.decision).toMatchObject({ decidedBy: "gate", decision: "promoted", toVersion: 1 });
      expect(helpful.active).toBe(1);
      expect(harmful.decision.warnings).toEqual([]);
      expect(helpful.decision.warnings).toEqual([
        "version 1 was learned with model 'sim-1' but the agent serves 'sim-1b'; experiences often do not transfer across models, so evaluate it on this model before relying on it",
      ]);
    },
    covering(3, 120_000),
  );

  it(
    "with the agent's capture off, the replay gate refuses: nothing goes live unvalidated",
    async () => {
      await createSimAgent("gate-off", { gate: { kind: "replay" } });
      const agent = await json<{ gate: Record<string, unknown> }>(await call("GET", "/api/agents/gate-off"));
      expect(agent.gate).toEqual({
        kind: "replay",
        sample: 50,
        G: 4,
        temperature: 0.7,
        judge: "critique",
        margin: 0.02,
        requireSignificant: false,
        seed: 1,
        rollout: "promote",
      });
      expect(await handMade("gate-off", HELPFUL)).toBe(1);
      const { id } = await json<{ id: string }>(
        await call("POST", "/api/runs", { agent: "gate-off", dataset: "unlearnable", fromVersion: 1, epochs: 1, groupSize: 2 }),
      );
      await waitForRun(id);
      const promotions = await waitFor(
        "gate-off decision",
        () => promotionsOf("gate-off"),
        (p) => p.data.length > 0,
      );
      expect(promotions.data[0]).toMatchObject({ decidedBy: "gate", decision: "refused" });
      expect(promotions.data[0]!.reason).toMatch(/replay gate: agent 'gate-off' does not capture its traffic/);
      expect(promotions.active).toBeNull();
    },
    covering(2),
  );

  it("keeps a replay's answers to captured conversations no longer than the captures' retention; its figures stay", async () => {
    const replays = "SELECT id FROM evaluations WHERE kind = 'replay' AND agent_id = (SELECT id FROM agents WHERE name = 'replayer')";
    const calls = async () => (await rows<{ n: number }>(`SELECT count(*) AS n FROM llm_calls WHERE owner_id IN (${replays})`))[0]?.n ?? 0;
    const scores = async () =>
      (await rows<{ n: number }>(`SELECT count(*) AS n FROM evaluation_scores WHERE evaluation_id IN (${replays})`))[0]?.n ?? 0;
    const [callsBefore, scoresBefore] = [await calls(), await scores()];
    expect(callsBefore).toBeGreaterThan(0);
    // Within the 7 days of retention nothing goes; after them the calls do, the scores stay.
    await applyRetention(db(env.DB), new Date(Date.now() + 6 * 24 * 3_600_000).toISOString());
    expect(await calls()).toBe(callsBefore);
    await applyRetention(db(env.DB), new Date(Date.now() + 8 * 24 * 3_600_000).toISOString());
    expect(await calls()).toBe(0);
    expect(await scores()).toBe(scoresBefore);
  });
});
