import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { countedWhenDebugging } from "../src/db/counting";
import { batchesPerSegment, lanesOf, segmentRanges } from "../src/core/stepBudget";
import { datasetSampleCount } from "../src/db/datasets";
import { finishRun, markRunning, updateRun } from "../src/db/runs";
import { checkpoint } from "../src/training/checkpoint";
import { loadRunContext } from "../src/training/context";
import type { RunSteps } from "../src/training/runView";
import { GROUP_TIMEOUT_MS } from "./trainingSegment";
import { countSteps } from "./stepCounter";
import { decideAfterGate, prepareGate } from "../src/promotion/gate";
import {
  GATE_STEPS,
  TRAINING_STEPS,
  evaluationDoneEvent,
  segmentDoneEvent,
  segmentInstanceId,
  type SegmentDone,
  type Stop,
  type TrainingSegmentParams,
} from "../src/durable/steps";
import { createInstances, rethrowEngineAbort } from "../src/durable/instances";

export type TrainingRunParams = { runId: string };

/** How long a finished run waits for its gate evaluation. */
export const GATE_TIMEOUT = "24 hours";

/** The longest a wait may be (Workflows' limit for sleeps and waits). */
const MAX_WAIT_MS = 365 * 86_400_000;

/**
 * A training run (docs/architecture.md §2, §4): its epochs' batches split into segments, one child
 * Workflow per segment, run one after the other, each starting from the library version the previous one
 * ended with; then the run's outcome and the promotion gate. The run's own steps grow with its segments,
 * not with its samples (src/core/stepBudget.ts). Everything that touches D1 happens inside a step.
 */
export class TrainingRunWorkflow extends WorkflowEntrypoint<Env, TrainingRunParams> {
  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, countedWhenDebugging(env));
  }

  override async run(event: WorkflowEvent<TrainingRunParams>, engineStep: WorkflowStep): Promise<{ version: number; reason: string }> {
    const { runId } = event.payload;
    const { step, count } = countSteps(engineStep);
    const steps: RunSteps = { run: 0, segments: 0, lanes: 0, maxPerInstance: 0 };
    const tally = (done: SegmentDone["steps"]) => {
      steps.segments += done.segment;
      steps.lanes += done.lanes;
      steps.maxPerInstance = Math.max(steps.maxPerInstance, done.segment, done.maxLane);
    };
    // The finish step is included in the count it records.
    const withRun = (): RunSteps => ({ ...steps, run: count() + 1, maxPerInstance: Math.max(steps.maxPerInstance, count() + 1) });
    try {
      const plan = await step.do(TRAINING_STEPS.start, async () => {
        const ctx = await loadRunContext(this.env, runId);
        await markRunning(ctx.d, runId);
        // Only what the loop below reads: the tools (MCP schemas included) stay in D1, not in the step result.
        const { epochs, batchSize, seed, maxGroupsInFlight, budgetTokens } = ctx.params;
        return {
          samples: await datasetSampleCount(ctx.d, ctx.run.datasetId),
          params: { epochs, batchSize, seed, maxGroupsInFlight, budgetTokens },
          segmentBatches: ctx.params.segmentBatches ?? batchesPerSegment(ctx.params),
          fromVersion: ctx.run.fromVersion ?? 0,
        };
      });
      const { params, samples } = plan;
      let version = plan.fromVersion;
      const ranges = segmentRanges(Math.ceil(samples / params.batchSize), plan.segmentBatches);
      for (let epoch = 1; epoch <= params.epochs; epoch++) {
        for (const [segment, range] of ranges.entries()) {
          const child: TrainingSegmentParams = {
            runId,
            parentId: event.instanceId,
            epoch,
            segment,
            fromBatch: range.from,
            toBatch: range.to,
            libraryVersion: version,
            samples,
            ...params,
          };
          await step.do(TRAINING_STEPS.spawnSegment(epoch, segment), async () => {
            await createInstances(this.env.TRAINING_SEGMENT, [{ id: segmentInstanceId(runId, epoch, segment), params: child }]);
            return true;
          });
          const done = await this.awaitSegment(step, child);
          tally(done.steps);
          version = done.version;
          if (done.stop) return this.finish(step, runId, version, done.stop, withRun());
        }
      }
      const last = await step.do(TRAINING_STEPS.last, () =>
        checkpoint(this.env, runId, { epoch: params.epochs + 1, batch: 0, epochs: params.epochs, budgetTokens: params.budgetTokens }),
      );
      return this.finish(step, runId, version, last ?? { status: "completed", reason: "finished all epochs", error: null }, withRun());
    } catch (error) {
      rethrowEngineAbort(error);
      const message = error instanceof Error ? error.message : String(error);
      await step.do(TRAINING_STEPS.fail, async () => {
        await finishRun((await loadRunContext(this.env, runId)).d, runId, "failed", { error: message, reason: "error" });
        return true;
      });
      throw error;
    }
  }

  /**
   * Waits for one segment's report. Its time-out covers every group of the segment taking its own
   * time-out; a segment silent past it stops the run as failed, with the version the run last recorded.
   */
  private async awaitSegment(step: WorkflowStep, s: TrainingSegmentParams): Promise<SegmentDone> {
    let groupsPerLane = 0;
    for (let batch = s.fromBatch; batch < s.toBatch; batch++) {
      const size = Math.min(s.batchSize, s.samples - batch * s.batchSize);
      groupsPerLane += Math.ceil(size / lanesOf(size, s.maxGroupsInFlight));
    }
    const timeout = Math.min(MAX_WAIT_MS, GROUP_TIMEOUT_MS * (groupsPerLane + 1));
    try {
      const done = await step.waitForEvent<SegmentDone>(TRAINING_STEPS.waitSegment(s.epoch, s.segment), {
        type: segmentDoneEvent(s.epoch, s.segment),
        timeout,
      });
      return done.payload;
    } catch (error) {
      rethrowEngineAbort(error);
      return step.do(TRAINING_STEPS.timedOutSegment(s.epoch, s.segment), async () => {
        const ctx = await loadRunContext(this.env, s.runId);
        const stop: Stop = {
          status: "failed",
          reason: "error",
          error: `segment ${s.segment} of epoch ${s.epoch} did not report within ${Math.round(timeout / 60_000)} minutes`,
        };
        return { version: ctx.run.latestVersion ?? s.libraryVersion, stop, steps: { segment: 0, lanes: 0, maxLane: 0 } };
      });
    }
  }

  private async finish(step: WorkflowStep, runId: string, version: number, outcome: Stop, steps: RunSteps) {
    await step.do(TRAINING_STEPS.finish, async () => {
      const ctx = await loadRunContext(this.env, runId);
      await finishRun(ctx.d, runId, outcome.status, { reason: outcome.reason, error: outcome.error });
      await updateRun(ctx.d, runId, { latestVersion: version, progress: { ...ctx.run.progress, steps } });
      return true;
    });
    await this.gate(step, runId);
    return { version, reason: outcome.reason };
  }

  /**
   * The end of a run: gated promotion of its final version. Three steps — start the gate evaluation (a
   * child Workflow), wait for its event, decide — all no-ops when the agent has no gate or the run did
   * not complete (docs/architecture.md, "Promotion").
   */
  private async gate(step: WorkflowStep, runId: string): Promise<void> {
    const type = evaluationDoneEvent(`gate-${runId}`);
    const plan = await step.do(GATE_STEPS.start, () => prepareGate(this.env, runId, { binding: "TRAINING_RUN", instanceId: runId, type }));
    if (!plan) return;
    try {
      await step.waitForEvent(GATE_STEPS.wait, { type, timeout: GATE_TIMEOUT });
    } catch (error) {
      rethrowEngineAbort(error);
      // Timed out: the decision step records a refusal unless the evaluation finished after all.
    }
    await step.do(GATE_STEPS.decide, () => decideAfterGate(this.env, runId, plan));
  }
}
