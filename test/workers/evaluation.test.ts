import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { inspectSimulatedModel } from "../../src/llm/upstream";
import { call, json } from "./helpers";
import { covering, createSimAgent, pct, uploadSlice, waitForEvaluation, waitForRun, type EvaluationView } from "./evalHelpers";

/** The evaluator's own scope in the in-process simulated model, so its request log holds only its calls. */
const SCOPE = "evaluator";

const K = 4;

describe("evaluations", () => {
  let latest = 0;

  it("validates a request before creating anything", async () => {
    await createSimAgent("evaluator", { upstream: { baseUrl: `sim://local?scope=${SCOPE}`, model: "sim-1" } });
    await uploadSlice("eval-train", "sim-train", 0, 40);
    await uploadSlice("eval-holdout", "sim-test", 0, 60);
    const cases: [unknown, number][] = [
      [{ agent: "ghost", dataset: "eval-holdout", versions: ["none"] }, 404],
      [{ agent: "evaluator", dataset: "missing", versions: ["none"] }, 404],
      [{ agent: "evaluator", dataset: "eval-holdout", versions: [7] }, 404],
      [{ agent: "evaluator", dataset: "eval-holdout", versions: [] }, 400],
      [{ agent: "evaluator", dataset: "eval-holdout", versions: ["all"] }, 400],
      [{ agent: "evaluator", dataset: "eval-holdout", versions: ["none"], k: 0 }, 400],
      [{ agent: "evaluator", dataset: "eval-holdout", versions: ["none"], surprise: 1 }, 400],
    ];
    for (const [body, status] of cases) expect((await call("POST", "/api/evaluations", body)).status, JSON.stringify(body)).toBe(status);
    expect((await json<{ data: unknown[] }>(await call("GET", "/api/evaluations?agent=evaluator"))).data).toHaveLength(0);
  });

  it(
    "a trained library beats none on held-out sim-test with a paired interval above zero",
    async () => {
      const created = await json<{ id: string }>(
        await call("POST", "/api/runs", {
          agent: "evaluator",
          dataset: "eval-train",
          epochs: 2,
          groupSize: 5,
          seed: 7,
          maxGroupsInFlight: 40,
        }),
      );
      const run = await waitForRun(created.id);
      expect(run.status).toBe("completed");
      latest = run.latestVersion;
      expect(latest).toBeGreaterThan(0);

      const seq0 = inspectSimulatedModel().seq;
      const res = await call("POST", "/api/evaluations", {
        agent: "evaluator",
        dataset: "eval-holdout",
        versions: [latest, "none"],
        k: K,
        temperature: 0.7,
        seed: 3,
        chunkSize: 6,
      });
      expect(res.status).toBe(201);
      const { id } = await json<{ id: string }>(res);
      const e = await waitForEvaluation(id);
      expect(e.error).toBeNull();
      expect(e.status).toBe("completed");
      expect(e.questions).toBe(60);
      const [trained, none] = e.versions;
      expect(trained?.label).toBe(`v${latest}`);
      expect(none?.label).toBe("none");
      console.log(
        `sim-test[0:60] Mean@${K} T=0.7: v${latest} ${pct(trained!.meanAtK)} [${pct(trained!.ci95.low)}, ${pct(trained!.ci95.high)}] ` +
          `vs none ${pct(none!.meanAtK)} [${pct(none!.ci95.low)}, ${pct(none!.ci95.high)}]; Pass@${K} ${pct(trained!.passAtK)} vs ${pct(none!.passAtK)}; ` +
          `paired diff ${pct(e.paired!.diff)} [${pct(e.paired!.ci95.low)}, ${pct(e.paired!.ci95.high)}]; tokens ${trained!.tokens.promptTokens} / ${none!.tokens.promptTokens}`,
      );
      expect(trained!.meanAtK).toBeGreaterThan(none!.meanAtK);
      expect(e.paired!.version).toBe(latest);
      expect(e.paired!.against).toBe(0);
      expect(e.paired!.ci95.low).toBeGreaterThan(0);
      expect(trained!.tokens.calls).toBe(60 * K);
      expect(trained!.tokens.promptTokens).toBeGreaterThan(none!.tokens.promptTokens);

      // Every call was requested from the model exactly once, as the model's own log shows, and stored.
      const requested = inspectSimulatedModel()
        .calls(SCOPE)
        .filter((c) => c.firstSeq > seq0);
      expect(requested).toHaveLength(60 * K * 2);
      expect(requested.filter((c) => c.requests !== 1)).toEqual([]);
      const stored = await env.DB.prepare("SELECT count(*) AS n FROM llm_calls WHERE owner_id = ?").bind(id).first<{ n: number }>();
      expect(stored?.n).toBe(60 * K * 2);

      // Per-question rewards, paged.
      const detail = await json<{ perQuestion: { idx: number; sampleId: string; rewards: Record<string, number[]> }[] }>(
        await call("GET", `/api/evaluations/${id}?detail=1&offset=10&limit=5`),
      );
      expect(detail.perQuestion.map((q) => q.idx)).toEqual([10, 11, 12, 13, 14]);
      expect(detail.perQuestion[0]?.rewards.none).toHaveLength(K);
      expect(detail.perQuestion[0]?.rewards[`v${latest}`]).toHaveLength(K);
      expect(detail.perQuestion[0]?.sampleId).toMatch(/^sim-test-/);

      const listed = await json<{ data: EvaluationView[] }>(await call("GET", "/api/evaluations?agent=evaluator"));
      expect(listed.data.map((x) => x.id)).toEqual([id]);
    },
    covering(2),
  );

  it(
    "is deterministic: the same request gives the same figures, and a single version has no comparison",
    async () => {
      const again = await json<{ id: string }>(
        await call("POST", "/api/evaluations", {
          agent: "evaluator",
          dataset: "eval-holdout",
          versions: ["none"],
          k: 2,
          temperature: 0.7,
          seed: 3,
          chunkSize: 20,
        }),
      );
      const e = await waitForEvaluation(again.id);
      expect(e.status).toBe("completed");
      expect(e.paired).toBeNull();
      const rows = await env.DB.prepare("SELECT count(*) AS n FROM evaluation_scores WHERE evaluation_id = ?")
        .bind(again.id)
        .first<{ n: number }>();
      expect(rows?.n).toBe(60);
    },
    covering(1),
  );
});
