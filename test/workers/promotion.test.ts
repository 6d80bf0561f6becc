import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addressedPitfalls } from "../../src/sim/experienceMatch";
import { PITFALLS } from "../../src/sim/pitfalls";
import { call, json } from "./helpers";
import { createSimAgent, pct, promotionsOf, uploadSlice, waitFor, waitForRun, type EvaluationView } from "./evalHelpers";

/** Hand-made harmful library: vague topic-only items and advice to do the wrong thing. */
const HARMFUL = [
  ...PITFALLS.map((p) => p.topicOnly),
  { name: "Skip an endpoint", text: "Do not count both endpoints of a range; take last minus first." },
  { name: "Left to right", text: "Never multiply before adding; read every expression strictly left to right." },
  { name: "Trust instinct", text: "Answer quickly from intuition without checking the work." },
];

const gate = { dataset: "gate-holdout", k: 4, temperature: 0.7, margin: 0.02 };

async function insertHandMadeVersion(agentId: string, version: number, items: { name: string; text: string }[]): Promise<void> {
  const statements = [
    env.DB.prepare("INSERT INTO library_versions (agent_id, version, parent_version, run_id, origin_key, item_count, note) VALUES (?, ?, NULL, NULL, ?, ?, 'hand-made')").bind(
      agentId,
      version,
      `hand-made-${version}`,
      items.length,
    ),
    ...items.map((item, i) =>
      env.DB.prepare("INSERT INTO library_items (agent_id, version, position, item_id, name, text, provenance) VALUES (?, ?, ?, ?, ?, ?, ?)").bind(
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

describe("promotion", () => {
  it("sets up data sets and checks the harmful library does not address any pitfall", async () => {
    await uploadSlice("gate-train", "sim-train", 0, 20);
    await uploadSlice("gate-holdout", "sim-test", 100, 130);
    // Text the simulated model cannot parse: every rollout fails, so a run on it learns nothing.
    const res = await call("POST", "/api/datasets?name=unlearnable", [
      { question: "Name the capital of France.", answer: "Paris" },
      { question: "Which colour is the sky on a clear day?", answer: "blue" },
    ]);
    expect(res.status).toBe(201);
    for (const item of HARMFUL) expect(addressedPitfalls(`${item.name}: ${item.text}`).size).toBe(0);
  });

  it("refuses a deliberately harmful hand-made library by the margin rule, and records why", async () => {
    await createSimAgent("harmful", { gate });
    const agent = await json<{ id: string; gate: unknown }>(await call("GET", "/api/agents/harmful"));
    expect(agent.gate).toMatchObject({ ...gate, requireSignificant: false });
    await insertHandMadeVersion(agent.id, 1, HARMFUL);
    // A run warm-started from the harmful library that cannot learn anything: its final version is the harmful one.
    const { id } = await json<{ id: string }>(await call("POST", "/api/runs", { agent: "harmful", dataset: "unlearnable", fromVersion: 1, epochs: 1, groupSize: 2 }));
    const run = await waitForRun(id);
    expect(run.status).toBe("completed");
    expect(run.latestVersion).toBe(1);
    const promotions = await waitFor("gate decision", () => promotionsOf("harmful"), (p) => p.data.length > 0);
    const decision = promotions.data[0]!;
    const evaluation = await json<EvaluationView>(await call("GET", `/api/evaluations/${decision.evaluationId}`));
    console.log(
      `harmful v1 vs none on sim-test[100:130] Mean@4 T=0.7: ${pct(evaluation.versions[0]!.meanAtK)} vs ${pct(evaluation.versions[1]!.meanAtK)}, ` +
        `paired diff ${pct(evaluation.paired!.diff)} [${pct(evaluation.paired!.ci95.low)}, ${pct(evaluation.paired!.ci95.high)}] → ${decision.decision}: ${decision.reason}`,
    );
    expect(decision).toMatchObject({ decidedBy: "gate", decision: "refused", fromVersion: null, toVersion: 1, runId: id });
    expect(decision.reason).toMatch(/not better/);
    expect(decision.figures).toMatchObject({ candidateVersion: 1, activeVersion: 0, questions: 30, k: 4, margin: 0.02 });
    expect(evaluation.versions.map((v) => v.label)).toEqual(["v1", "none"]);
    expect(evaluation.paired!.diff).toBeLessThanOrEqual(0);
    expect(promotions.active).toBeNull();
  });

  it("promotes a trained library that beats the active one, atomically with its record", async () => {
    await createSimAgent("gated", { gate });
    const { id } = await json<{ id: string }>(await call("POST", "/api/runs", { agent: "gated", dataset: "gate-train", epochs: 1, groupSize: 5, seed: 7, maxGroupsInFlight: 20 }));
    const run = await waitForRun(id);
    expect(run.status).toBe("completed");
    expect(run.latestVersion).toBeGreaterThan(0);
    const promotions = await waitFor("gate decision", () => promotionsOf("gated"), (p) => p.data.length > 0);
    const decision = promotions.data[0]!;
    console.log(`gated: v${run.latestVersion} vs none → ${decision.decision}: ${decision.reason}`);
    expect(decision).toMatchObject({ decidedBy: "gate", decision: "promoted", fromVersion: null, toVersion: run.latestVersion, runId: id });
    expect(promotions.active).toBe(run.latestVersion);
    expect((decision.figures as { diff: number }).diff).toBeGreaterThanOrEqual(0.02);
  });

  it("promotes and rolls back by hand, recording each decision", async () => {
    const before = await promotionsOf("gated");
    const active = before.active!;
    expect((await call("POST", "/api/agents/gated/promote", { version: 99 })).status).toBe(404);
    expect((await call("POST", "/api/agents/gated/promote", { version: -1 })).status).toBe(400);
    const off = await json<{ decision: string; decidedBy: string; fromVersion: number | null; toVersion: number | null }>(await call("POST", "/api/agents/gated/promote", { version: null }));
    expect(off).toMatchObject({ decision: "promoted", decidedBy: "manual", fromVersion: active, toVersion: null });
    expect((await json<{ activeVersion: number | null }>(await call("GET", "/api/agents/gated"))).activeVersion).toBeNull();
    const back = await json<{ toVersion: number | null; fromVersion: number | null }>(await call("POST", "/api/agents/gated/promote", { version: active, reason: "roll forward" }));
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
      await call("PATCH", "/api/agents/gated", { gate: null, capture: { enabled: true, retentionDays: 7 }, schedule: { everyHours: 6, trainingDataset: "gate-train" } }),
    );
    expect(ok).toMatchObject({ gate: null, capture: { enabled: true, retentionDays: 7 }, schedule: { enabled: true, everyHours: 6, trainingDataset: "gate-train" } });
  });
});
