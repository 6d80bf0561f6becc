import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { chunkPlan, splitBatches } from "../src/core/batching";
import { markEvaluationRunning, touchEvaluation, finishEvaluation } from "../src/db/evaluationRows";
import { versionItems } from "../src/db/libraryVersions";
import { evaluateQuestion, finishEvaluationRun, loadEvalContext, type EvaluationParams } from "../src/evaluation/evaluate";
import { judgeReplay, replayRollouts } from "../src/evaluation/replay";
import { EVAL_STEPS, chunkDoneEvent, chunkInstanceId } from "../src/durable/steps";
import { db } from "../src/db/client";
import { createInstances, rethrowEngineAbort } from "../src/durable/instances";
import { failFast } from "../src/durable/failFast";
import { sendEventTo } from "../src/durable/handles";

/** How long an evaluation waits for one chunk before recording it as failed. */
export const CHUNK_TIMEOUT = "2 hours";

export type EvaluationChunkParams = { evaluationId: string; parentId: string; chunk: number; sampleIdxs: number[] };
type ChunkReport = { ok: boolean; error: string | null };

/**
 * An evaluation (same fan-out and durability as a training run): questions are split into chunks, one
 * child instance per chunk (at most `maxChunksInFlight` at once), each scoring its questions under
 * every version; the parent then computes Mean@k, Pass@k and bootstrap intervals from D1 and, when a
 * parent Workflow waits for it (a gate or a protocol), reports with an event.
 */
export class EvaluationWorkflow extends WorkflowEntrypoint<Env, EvaluationParams> {
  override async run(event: WorkflowEvent<EvaluationParams>, step: WorkflowStep): Promise<{ status: string }> {
    const { evaluationId, notify } = event.payload;
    let status: "completed" | "failed" = "failed";
    try {
      const plan = await step.do(EVAL_STEPS.start, async () => {
        const ctx = await loadEvalContext(this.env, evaluationId);
        await markEvaluationRunning(ctx.d, evaluationId);
        return { samples: ctx.params.samples, chunkSize: ctx.params.chunkSize, maxChunksInFlight: ctx.params.maxChunksInFlight };
      });
      const chunks = chunkPlan(plan.samples, plan.chunkSize);
      const failures: string[] = [];
      const indexed = chunks.map((sampleIdxs, chunk) => ({ chunk, sampleIdxs }));
      for (const [wave, group] of splitBatches(indexed, plan.maxChunksInFlight).entries()) {
        await step.do(EVAL_STEPS.spawn(wave), () =>
          this.spawn(group.map(({ chunk, sampleIdxs }) => ({ evaluationId, parentId: event.instanceId, chunk, sampleIdxs }))),
        );
        const reports = await Promise.all(group.map(({ chunk }) => this.awaitChunk(step, chunk)));
        for (const r of reports) if (!r.ok && r.error) failures.push(r.error);
      }
      status = (await step.do(EVAL_STEPS.finish, async () => finishEvaluationRun(await loadEvalContext(this.env, evaluationId), failures)))
        .status;
    } catch (error) {
      rethrowEngineAbort(error);
      const message = error instanceof Error ? error.message : String(error);
      await step.do(EVAL_STEPS.fail, async () => {
        await finishEvaluation(db(this.env.DB), evaluationId, { status: "failed", error: message });
        return true;
      });
    }
    if (notify) {
      await step.do(EVAL_STEPS.notify, async () => {
        const event = { type: notify.type, payload: { evaluationId, status } };
        if (notify.binding === "TRAINING_RUN") await sendEventTo(this.env.TRAINING_RUN, notify.instanceId, event);
        else await sendEventTo(this.env.PROTOCOL, notify.instanceId, event);
        return true;
      });
    }
    return { status };
  }

  private async spawn(chunks: EvaluationChunkParams[]): Promise<number> {
    await createInstances(
      this.env.EVALUATION_CHUNK,
      chunks.map((params) => ({ id: chunkInstanceId(params.evaluationId, params.chunk), params })),
    );
    return chunks.length;
  }

  private async awaitChunk(step: WorkflowStep, chunk: number): Promise<ChunkReport> {
    try {
      const got = await step.waitForEvent<ChunkReport>(EVAL_STEPS.waitChunk(chunk), {
        type: chunkDoneEvent(chunk),
        timeout: CHUNK_TIMEOUT,
      });
      return got.payload;
    } catch (error) {
      rethrowEngineAbort(error);
      return { ok: false, error: `chunk ${chunk}: no report within ${CHUNK_TIMEOUT}` };
    }
  }
}

/** One chunk of an evaluation's questions, each scored under every version (one step per pair). */
export class EvaluationChunkWorkflow extends WorkflowEntrypoint<Env, EvaluationChunkParams> {
  override async run(event: WorkflowEvent<EvaluationChunkParams>, step: WorkflowStep): Promise<ChunkReport> {
    const { evaluationId, parentId, chunk, sampleIdxs } = event.payload;
    let report: ChunkReport = { ok: true, error: null };
    try {
      const versions = await step.do("versions", async () => (await loadEvalContext(this.env, evaluationId)).evaluation.versions);
      const replay = await step.do(
        EVAL_STEPS.kind,
        async () => (await loadEvalContext(this.env, evaluationId)).evaluation.kind === "replay",
      );
      for (const sampleIdx of sampleIdxs) {
        // A labelled question is scored per version; a replayed capture is answered per version, then judged once.
        for (const version of versions) {
          await step.do(EVAL_STEPS.question(sampleIdx, version), () =>
            failFast(async () => {
              const ctx = await loadEvalContext(this.env, evaluationId);
              const library = await versionItems(ctx.d, ctx.agent.id, version);
              return replay ? replayRollouts(ctx, sampleIdx, version, library) : evaluateQuestion(ctx, sampleIdx, version, library);
            }),
          );
        }
        if (replay) {
          await step.do(EVAL_STEPS.judge(sampleIdx), () =>
            failFast(async () => (await judgeReplay(await loadEvalContext(this.env, evaluationId), sampleIdx)).candidate),
          );
        }
      }
    } catch (error) {
      rethrowEngineAbort(error);
      report = { ok: false, error: `chunk ${chunk}: ${error instanceof Error ? error.message : String(error)}` };
    }
    await step.do(EVAL_STEPS.notify, async () => {
      await touchEvaluation(db(this.env.DB), evaluationId);
      await sendEventTo(this.env.EVALUATION, parentId, { type: chunkDoneEvent(chunk), payload: report });
      return true;
    });
    return report;
  }
}
