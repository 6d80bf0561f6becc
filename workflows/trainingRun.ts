import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { epochPlan, splitBatches } from "../src/core/batching";
import { datasetSampleCount } from "../src/db/datasets";
import { versionItems } from "../src/db/libraryVersions";
import { totalTokens } from "../src/db/llmCalls";
import { finishRun, markRunning, updateRun } from "../src/db/runs";
import { findGroup } from "../src/db/training";
import { updateBatch } from "../src/training/batch";
import { loadRunContext } from "../src/training/context";
import { recordDropped } from "../src/training/group";
import type { RolloutGroupParams } from "./rolloutGroup";
import { countSteps } from "./stepCounter";
import { decideAfterGate, prepareGate } from "../src/promotion/gate";
import { GATE_STEPS, TRAINING_STEPS, evaluationDoneEvent, groupDoneEvent, groupInstanceId, type GroupDone } from "../src/durable/steps";
import { createInstances, rethrowEngineAbort } from "../src/durable/instances";
import { failFast } from "../src/durable/failFast";
import { lastBatchOutcomes } from "../src/db/training";
import { upstreamFailure } from "../src/training/upstreamHealth";

export type TrainingRunParams = { runId: string };

/** How long a run waits for one group before recording it as dropped. */
export const GROUP_TIMEOUT = "2 hours";

/** How long a finished run waits for its gate evaluation. */
export const GATE_TIMEOUT = "24 hours";

type Checkpoint = { go: true } | { go: false; status: "completed" | "cancelled" | "failed"; reason: string; error?: string };

/**
 * A training run (docs/architecture.md §2, §4): per epoch a seeded shuffle, per batch a fan-out of one child Workflow
 * per rollout group (at most `maxGroupsInFlight` at once), then one batch update that stores a new
 * immutable library version. Everything that costs an LLM call or touches D1 happens inside a step.
 */
export class TrainingRunWorkflow extends WorkflowEntrypoint<Env, TrainingRunParams> {
  override async run(event: WorkflowEvent<TrainingRunParams>, engineStep: WorkflowStep): Promise<{ version: number; reason: string }> {
    const { runId } = event.payload;
    const { step, count } = countSteps(engineStep);
    let groupSteps = 0;
    const steps = () => ({ run: count() + 1, groups: groupSteps });
    try {
      const plan = await step.do(TRAINING_STEPS.start, async () => {
        const ctx = await loadRunContext(this.env, runId);
        await markRunning(ctx.d, runId);
        // Only what the loop below reads: the tools (MCP schemas included) stay in D1, not in the step result.
        const { epochs, batchSize, seed, maxGroupsInFlight, budgetTokens } = ctx.params;
        return {
          samples: await datasetSampleCount(ctx.d, ctx.run.datasetId),
          params: { epochs, batchSize, seed, maxGroupsInFlight, budgetTokens },
          fromVersion: ctx.run.fromVersion ?? 0,
        };
      });
      const { params } = plan;
      let version = plan.fromVersion;
      for (let epoch = 1; epoch <= params.epochs; epoch++) {
        const batches = epochPlan(plan.samples, params.seed, epoch, params.batchSize);
        for (const [batch, samples] of batches.entries()) {
          const check = await step.do(TRAINING_STEPS.checkpoint(epoch, batch), () => this.checkpoint(runId, epoch, batch));
          if (!check.go) return this.finish(step, runId, version, check.status, check.reason, steps(), check.error);
          for (const [wave, group] of splitBatches(samples, params.maxGroupsInFlight).entries()) {
            await step.do(TRAINING_STEPS.spawn(epoch, batch, wave), () =>
              this.spawn(
                group.map((sampleIdx) => ({ runId, parentId: event.instanceId, epoch, batch, sampleIdx, libraryVersion: version })),
              ),
            );
            const reported = await Promise.all(group.map((sampleIdx) => this.awaitGroup(step, runId, epoch, batch, sampleIdx, version)));
            groupSteps += reported.reduce((a, b) => a + b, 0);
          }
          const outcome = await step.do(TRAINING_STEPS.update(epoch, batch), () =>
            failFast(async () => {
              const ctx = await loadRunContext(this.env, runId);
              return updateBatch(ctx, epoch, batch, { version, items: await versionItems(ctx.d, ctx.agent.id, version) });
            }),
          );
          version = outcome.version;
        }
      }
      const last = await step.do(TRAINING_STEPS.checkpoint(params.epochs + 1, 0), () => this.checkpoint(runId, params.epochs + 1, 0));
      return this.finish(
        step,
        runId,
        version,
        last.go ? "completed" : last.status,
        last.go ? "finished all epochs" : last.reason,
        steps(),
        last.go ? undefined : last.error,
      );
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

  /** Records progress and decides whether the next batch may start (cancel, token budget). */
  private async checkpoint(runId: string, epoch: number, batch: number): Promise<Checkpoint> {
    const ctx = await loadRunContext(this.env, runId);
    if (ctx.run.status === "cancelled") return { go: false, status: "cancelled", reason: "cancelled by request" };
    const budget = ctx.params.budgetTokens;
    if (budget !== null && (await totalTokens(ctx.d, runId)) > budget) return { go: false, status: "completed", reason: "budget" };
    const failing = upstreamFailure(await lastBatchOutcomes(ctx.d, runId));
    if (failing) return { go: false, status: "failed", reason: "upstream_failing", error: failing };
    await updateRun(ctx.d, runId, { progress: { ...ctx.run.progress, epoch: Math.min(epoch, ctx.params.epochs), batch } });
    return { go: true };
  }

  private async spawn(groups: RolloutGroupParams[]): Promise<number> {
    await createInstances(
      this.env.ROLLOUT_GROUP,
      groups.map((params) => ({ id: groupInstanceId(params.runId, params.epoch, params.sampleIdx), params })),
    );
    return groups.length;
  }

  /** Waits for one group's report; returns the steps the group instance used (0 if it never reported). */
  private async awaitGroup(
    step: WorkflowStep,
    runId: string,
    epoch: number,
    batch: number,
    sampleIdx: number,
    version: number,
  ): Promise<number> {
    try {
      const done = await step.waitForEvent<GroupDone>(TRAINING_STEPS.waitGroup(epoch, sampleIdx), {
        type: groupDoneEvent(epoch, sampleIdx),
        timeout: GROUP_TIMEOUT,
      });
      return done.payload.steps;
    } catch (error) {
      rethrowEngineAbort(error);
      await step.do(TRAINING_STEPS.timedOutGroup(epoch, sampleIdx), async () => {
        const ctx = await loadRunContext(this.env, runId);
        if (!(await findGroup(ctx.d, runId, epoch, sampleIdx))) {
          await recordDropped(ctx, { epoch, batch, sampleIdx, libraryVersion: version }, [], `no report within ${GROUP_TIMEOUT}`);
        }
        return true;
      });
      return 0;
    }
  }

  /** `steps` counts this finish step too, so it is the run's total. */
  private async finish(
    step: WorkflowStep,
    runId: string,
    version: number,
    status: "completed" | "cancelled" | "failed",
    reason: string,
    steps: { run: number; groups: number },
    error?: string,
  ) {
    await step.do(TRAINING_STEPS.finish, async () => {
      const ctx = await loadRunContext(this.env, runId);
      await finishRun(ctx.d, runId, status, { reason, error: error ?? null });
      await updateRun(ctx.d, runId, { latestVersion: version, progress: { ...ctx.run.progress, steps } });
      return true;
    });
    await this.gate(step, runId);
    return { version, reason };
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
