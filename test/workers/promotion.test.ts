import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readExperiences } from "../../src/sim/experienceMatch";
import { PITFALL_IDS, pitfallById } from "../../src/sim/pitfalls";
import { HAND_WRITTEN, type HandItem } from "../fixtures/handWrittenLibraries";
import { call, json } from "./helpers";
import { covering, createSimAgent, pct, promotionsOf, uploadSlice, waitFor, waitForRun, type EvaluationView } from "./evalHelpers";

/** Hand-made harmful library: the wrong rule for every pitfall, in our own words, plus vague remarks. */
const HARMFUL: HandItem[] = [
  ...PITFALL_IDS.map((id) => HAND_WRITTEN[id].misleading[0]!),
  ...PITFALL_IDS.slice(0, 3).map((id) => pitfallById(id).topicOnly),
  { name: "Trust instinct", text: "Answer quickly from intuition without checking the work." },
];
/** One good lesson and one wrong rule: a small net gain that the paired interval cannot tell from zero. */
const MIXED: HandItem[] = [HAND_WRITTEN.order_of_operations.heldOut[0]!, HAND_WRITTEN.fence_posts.misleading[0]!];
/** One good lesson on a rare pitfall: a real gain, but smaller than the margin. */
const SLIGHT: HandItem[] = [HAND_WRITTEN.unit_conversion.heldOut[0]!];

const gate = { dataset: "gate-holdout", k: 4, temperature: 0.7, margin: 0.02 };

async function insertHandMadeVersion(agentId: string, version: number, items: { name: string; text: string }[]): Promise<void> {
  const statements = [
    env.DB.prepare(
      "INSERT INTO library_versions (agent_id, version, parent_version, run_id, origin_key, item_count, note) VALUES (?, ?, NULL, NULL, ?, ?, 'hand-made')",
    ).bind(agentId, version, `hand-made-${version}`, items.length),
    ...items.map((item, i) =>
      env.DB.prepare(
        "INSERT INTO library_items (agent_id, version, position, item_id, name, text, provenance) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).bind(
        agentId,
        version,
        i,
        `E${100 + i}`,
        item.name,
        item.text,
        JSON.stringify([{ runId: null, epoch: null, batch: null, op: "HAND" }]),
      ),
    ),
  ];
  await env.DB.batch(statements);
}

type GateOutcome = {
  decision: Awaited<ReturnType<typeof promotionsOf>>["data"][number];
  evaluation: EvaluationView;
  runId: string;
  active: number | null;
};

/**
 * Gives the agent a hand-made version 1 and lets the gate judge it: a run warm-started from it on data
 * the simulated model cannot learn from ends on version 1 unchanged, which the gate then evaluates
 * against no library.
 */
async function gateHandMade(agent: string, items: HandItem[], rule: Record<string, unknown> = {}): Promise<GateOutcome> {
  await createSimAgent(agent, { gate: { ...gate, ...rule } });
  const { id: agentId } = await json<{ id: string }>(await call("GET", `/api/agents/${agent}`));
  await insertHandMadeVersion(agentId, 1, items);
  const { id } = await json<{ id: string }>(
    await call("POST", "/api/runs", { agent, dataset: "unlearnable", fromVersion: 1, epochs: 1, groupSize: 2 }),
  );
  const run = await waitForRun(id);
  expect(run.status).toBe("completed");
  expect(run.latestVersion).toBe(1);
  const promotions = await waitFor(
    "gate decision",
    () => promotionsOf(agent),
    (p) => p.data.length > 0,
  );
  const decision = promotions.data[0]!;
  const evaluation = await json<EvaluationView>(await call("GET", `/api/evaluations/${decision.evaluationId}`));
  console.log(
    `${agent}: v1 vs none on sim-test[100:130] Mean@4 T=0.7: ${pct(evaluation.versions[0]!.meanAtK)} vs ${pct(evaluation.versions[1]!.meanAtK)}, ` +
      `paired diff ${pct(evaluation.paired!.diff)} [${pct(evaluation.paired!.ci95.low)}, ${pct(evaluation.paired!.ci95.high)}] → ${decision.decision}: ${decision.reason}`,
  );
  expect(evaluation.versions.map((v) => v.label)).toEqual(["v1", "none"]);
  return { decision, evaluation, runId: id, active: promotions.active };
}

describe("promotion", () => {
  it("sets up data sets; the hand-made libraries read as intended", async () => {
    await uploadSlice("gate-train", "sim-train", 0, 20);
    await uploadSlice("gate-holdout", "sim-test", 100, 130);
    // Text the simulated model cannot parse: every rollout fails, so a run on it learns nothing.
    const res = await call("POST", "/api/datasets?name=unlearnable", [
      { question: "Name the capital of France.", answer: "Paris" },
      { question: "Which colour is the sky on a clear day?", answer: "blue" },
    ]);
    expect(res.status).toBe(201);
    const stances = (items: HandItem[]) =>
      [...readExperiences(items.map((e, i) => `[E${i + 1}] ${e.name}: ${e.text}`).join("\n"))].map(([p, r]) => `${p}:${r.stance}`).sort();
    expect(stances(HARMFUL)).toEqual(PITFALL_IDS.map((id) => `${id}:misleads`).sort());
    expect(stances(MIXED)).toEqual(["fence_posts:misleads", "order_of_operations:helps"]);
    expect(stances(SLIGHT)).toEqual(["unit_conversion:helps"]);
  });

  it(
    "refuses a deliberately harmful hand-made library: its paired difference is negative, interval and all",
    async () => {
      const { decision, evaluation, runId, active } = await gateHandMade("harmful", HARMFUL);
      expect(decision).toMatchObject({ decidedBy: "gate", decision: "refused", fromVersion: null, toVersion: 1, runId });
      expect(decision.reason).toMatch(/not better/);
      expect(decision.figures).toMatchObject({ candidateVersion: 1, activeVersion: 0, questions: 30, k: 4, margin: 0.02 });
      // Not a tie: the wrong rules cost accuracy, and the whole interval lies below zero.
      expect(evaluation.paired!.diff).toBeLessThanOrEqual(-0.1);
      expect(evaluation.paired!.ci95.high).toBeLessThan(0);
      expect(active).toBeNull();
    },
    covering(2),
  );

  it(
    "with requireSignificant, refuses a gain above the margin whose interval still reaches below zero; without it, promotes it",
    async () => {
      const [strict, lenient] = await Promise.all([
        gateHandMade("strict", MIXED, { requireSignificant: true }),
        gateHandMade("lenient", MIXED),
      ]);
      // The same questions and seeds: the same figures for both.
      expect(strict.evaluation.paired).toEqual(lenient.evaluation.paired);
      const paired = strict.evaluation.paired!;
      expect(paired.diff).toBeGreaterThanOrEqual(gate.margin);
      expect(paired.ci95.low).toBeLessThan(0);
      expect(paired.ci95.high).toBeGreaterThan(0);
      expect(strict.decision).toMatchObject({ decision: "refused", toVersion: 1 });
      expect(strict.decision.reason).toMatch(/not significant/);
      expect(strict.active).toBeNull();
      expect(lenient.decision).toMatchObject({ decision: "promoted", toVersion: 1 });
      expect(lenient.active).toBe(1);
    },
    covering(2),
  );

  it(
    "refuses a real gain smaller than the margin",
    async () => {
      const { decision, evaluation, active } = await gateHandMade("slight", SLIGHT);
      expect(evaluation.paired!.diff).toBeGreaterThan(0);
      expect(evaluation.paired!.diff).toBeLessThan(gate.margin);
      expect(decision).toMatchObject({ decision: "refused", toVersion: 1 });
      expect(decision.reason).toMatch(/below the margin/);
      expect(active).toBeNull();
    },
    covering(2),
  );

  it(
    "promotes a trained library that beats the active one, atomically with its record",
    async () => {
      await createSimAgent("gated", { gate });
      const { id } = await json<{ id: string }>(
        await call("POST", "/api/runs", { agent: "gated", dataset: "gate-train", epochs: 1, groupSize: 5, seed: 7, maxGroupsInFlight: 20 }),
      );
      const run = await waitForRun(id);
      expect(run.status).toBe("completed");
      expect(run.latestVersion).toBeGreaterThan(0);
      const promotions = await waitFor(
        "gate decision",
        () => promotionsOf("gated"),
        (p) => p.data.length > 0,
      );
      const decision = promotions.data[0]!;
      console.log(`gated: v${run.latestVersion} vs none → ${decision.decision}: ${decision.reason}`);
      expect(decision).toMatchObject({
        decidedBy: "gate",
        decision: "promoted",
        fromVersion: null,
        toVersion: run.latestVersion,
        runId: id,
      });
      expect(promotions.active).toBe(run.latestVersion);
      expect((decision.figures as { diff: number }).diff).toBeGreaterThanOrEqual(0.02);
    },
    covering(2),
  );

  it("promotes and rolls back by hand, recording each decision", async () => {
    const before = await promotionsOf("gated");
    const active = before.active!;
    expect((await call("POST", "/api/agents/gated/promote", { version: 99 })).status).toBe(404);
    expect((await call("POST", "/api/agents/gated/promote", { version: -1 })).status).toBe(400);
    const off = await json<{ decision: string; decidedBy: string; fromVersion: number | null; toVersion: number | null }>(
      await call("POST", "/api/agents/gated/promote", { version: null }),
    );
    expect(off).toMatchObject({ decision: "promoted", decidedBy: "manual", fromVersion: active, toVersion: null });
    expect((await json<{ activeVersion: number | null }>(await call("GET", "/api/agents/gated"))).activeVersion).toBeNull();
    const back = await json<{ toVersion: number | null; fromVersion: number | null }>(
      await call("POST", "/api/agents/gated/promote", { version: active, reason: "roll forward" }),
    );
    expect(back).toMatchObject({ fromVersion: null, toVersion: active });
    const after = await promotionsOf("gated");
    expect(after.active).toBe(active);
    expect(after.data.map((p) => p.decidedBy)).toEqual(["manual", "manual", "gate"]);
    expect((await call("POST", "/api/agents/gated/promote", { version: 0 })).status).toBe(200);
    expect((await promotionsOf("gated")).active).toBeNull();
  });

  it("PATCH validates the gate, capture and schedule fields", async () => {
    expect((await call("PATCH", "/api/agents/gated", { gate: { dataset: "x", k: 0 } })).status).toBe(400);
    expect((await call("PATCH", "/api/agents/gated", { capture: { enabled: "yes" } })).status).toBe(400);
    expect((await call("PATCH", "/api/agents/gated", { schedule: { everyHours: 0, trainingDataset: "gate-train" } })).status).toBe(400);
    const ok = await json<{ gate: unknown; capture: unknown; schedule: unknown }>(
      await call("PATCH", "/api/agents/gated", {
        gate: null,
        capture: { enabled: true, retentionDays: 7 },
        schedule: { everyHours: 6, trainingDataset: "gate-train" },
      }),
    );
    expect(ok).toMatchObject({
      gate: null,
      capture: { enabled: true, retentionDays: 7 },
      schedule: { enabled: true, everyHours: 6, trainingDataset: "gate-train" },
    });
  });
});
