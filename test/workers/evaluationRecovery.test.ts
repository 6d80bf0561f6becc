import { createScheduledController, env, introspectWorkflow } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { EVAL_STEPS } from "../../workflows/steps";
import { createSimAgent, uploadSlice, waitFor, waitForEvaluation, type EvaluationView } from "./evalHelpers";
import { call, json } from "./helpers";

/**
 * POST /api/evaluations/{id}/recover: an evaluation whose chunk reports never reached the parent
 * (here the chunks' notify step is mocked out, so they end without sending anything) completes once
 * the reports are re-sent from what the chunk instances stored.
 */

beforeAll(async () => {
  await createSimAgent("recovering");
  await uploadSlice("recovering-set", "sim-test", 0, 4);
});

type Progress = { status: string; progress: { scored: number; total: number } };

/** Starts an evaluation of 4 questions in 2 chunks and waits until all is scored, its parent still waiting. */
async function evaluationWithLostReports(): Promise<string> {
  const res = await call("POST", "/api/evaluations", {
    agent: "recovering",
    dataset: "recovering-set",
    versions: ["none"],
    k: 1,
    chunkSize: 2,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  const scored = await waitFor(
    `evaluation ${id} scored`,
    async () => json<Progress>(await call("GET", `/api/evaluations/${id}`)),
    (e) => e.progress.scored === e.progress.total,
  );
  expect(scored.status).toBe("running");
  await new Promise((r) => setTimeout(r, 500));
  expect((await json<Progress>(await call("GET", `/api/evaluations/${id}`))).status).toBe("running");
  return id;
}

describe("evaluation recovery", () => {
  it("re-sends the reports a parent never received, and the evaluation completes", async () => {
    await using chunks = await introspectWorkflow(env.EVALUATION_CHUNK);
    await chunks.modifyAll(async (m) => {
      await m.mockStepResult({ name: EVAL_STEPS.notify }, true);
    });
    const id = await evaluationWithLostReports();

    const recovered = await call("POST", `/api/evaluations/${id}/recover`);
    expect(recovered.status, await recovered.clone().text()).toBe(200);
    expect(await recovered.json()).toMatchObject({ id, chunks: 0, reports: 2, evaluation: expect.stringMatching(/^pause\+resume/) });

    const done: EvaluationView = await waitForEvaluation(id);
    expect(done).toMatchObject({ status: "completed", error: null });
    expect(done.versions[0]?.questionsDone).toBe(4);

    const again = await call("POST", `/api/evaluations/${id}/recover`);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "evaluation_finished" } });
  });

  it("is what the cron trigger does for an evaluation with no progress, and it is recorded", async () => {
    await using chunks = await introspectWorkflow(env.EVALUATION_CHUNK);
    await chunks.modifyAll(async (m) => {
      await m.mockStepResult({ name: EVAL_STEPS.notify }, true);
    });
    const id = await evaluationWithLostReports();
    await env.DB.prepare("UPDATE evaluations SET updated_at = ? WHERE id = ?")
      .bind(new Date(Date.now() - 2 * 3_600_000).toISOString(), id)
      .run();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env);

    const recorded = (
      await env.DB.prepare("SELECT kind, action FROM recoveries WHERE target_id = ?").bind(id).all<{ kind: string; action: string }>()
    ).results;
    expect(recorded).toEqual([{ kind: "evaluation", action: expect.stringMatching(/^pause\+resume .*; 2 chunk report\(s\) re-sent$/) }]);
    expect(await waitForEvaluation(id)).toMatchObject({ status: "completed", error: null });
  });

  it("creates the chunk instances of a wave whose spawn never happened, and the evaluation completes", async () => {
    await using evaluations = await introspectWorkflow(env.EVALUATION);
    await evaluations.modifyAll(async (m) => {
      await m.mockStepResult({ name: EVAL_STEPS.spawn(0) }, 2);
    });
    const res = await call("POST", "/api/evaluations", {
      agent: "recovering",
      dataset: "recovering-set",
      versions: ["none"],
      k: 1,
      chunkSize: 2,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = await json<{ id: string }>(res);
    await waitFor(
      `evaluation ${id} running`,
      async () => json<Progress>(await call("GET", `/api/evaluations/${id}`)),
      (e) => e.status === "running",
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await json<Progress>(await call("GET", `/api/evaluations/${id}`))).progress.scored).toBe(0);

    const recovered = await call("POST", `/api/evaluations/${id}/recover`);
    expect(recovered.status, await recovered.clone().text()).toBe(200);
    expect(await recovered.json()).toMatchObject({ id, recreated: 2, reports: 0 });
    expect(await waitForEvaluation(id)).toMatchObject({ status: "completed", error: null });
  });

  it("answers 404 for an unknown evaluation", async () => {
    const res = await call("POST", "/api/evaluations/ev_missing/recover");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
