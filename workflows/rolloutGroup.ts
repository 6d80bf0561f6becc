import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { versionItems } from "../src/db/libraryVersions";
import { loadRunContext } from "../src/training/context";
import { recordDropped, recordKept, reflect, rolloutAndScore, skipIfNoSignal, summarise, type GroupRef } from "../src/training/group";
import { countSteps } from "./stepCounter";
import { GROUP_STEPS, groupDoneEvent, type GroupDone } from "./steps";
import { rethrowEngineAbort } from "./engine";

export type RolloutGroupParams = GroupRef & { runId: string; parentId: string };

/**
 * One rollout group in its own Worker invocations: rollouts, rewards, filter, summaries, group advantage
 * and group update, then a report to the parent run. Bulk text stays in D1; steps return small values.
 */
export class RolloutGroupWorkflow extends WorkflowEntrypoint<Env, RolloutGroupParams> {
  override async run(event: WorkflowEvent<RolloutGroupParams>, engineStep: WorkflowStep): Promise<string> {
    const { runId, parentId, ...g } = event.payload;
    const { step, count } = countSteps(engineStep);
    const context = async () => {
      const ctx = await loadRunContext(this.env, runId);
      return { ctx, library: await versionItems(ctx.d, ctx.agent.id, g.libraryVersion) };
    };
    let outcome = "dropped";
    let rewards: number[] = [];
    try {
      const scored = await step.do(GROUP_STEPS.rollouts, async () => {
        const { ctx, library } = await context();
        if (ctx.run.status === "cancelled") return null;
        return rolloutAndScore(ctx, g, library);
      });
      if (scored === null) throw new Error("run cancelled");
      rewards = scored;
      const skipped = await step.do(GROUP_STEPS.record, async () => skipIfNoSignal((await context()).ctx, g, rewards));
      if (skipped) {
        outcome = "skipped";
      } else {
        const summaries = await step.do(GROUP_STEPS.summaries, async () => {
          const { ctx, library } = await context();
          return summarise(ctx, g, library);
        });
        if (!summaries.ok) throw new Error(summaries.error);
        const reflected = await step.do(GROUP_STEPS.reflect, async () => {
          const { ctx, library } = await context();
          const reflection = await reflect(ctx, g, library, summaries.value);
          if (reflection.ok) await recordKept(ctx, g, rewards, reflection.value);
          return reflection.ok ? null : reflection.error;
        });
        if (reflected !== null) throw new Error(reflected);
        outcome = "kept";
      }
    } catch (error) {
      rethrowEngineAbort(error);
      const reason = error instanceof Error ? error.message : String(error);
      await step.do(GROUP_STEPS.drop, async () => {
        await recordDropped((await context()).ctx, g, rewards, reason);
        return true;
      });
    }
    await step.do(GROUP_STEPS.notify, async () => {
      const parent = await this.env.TRAINING_RUN.get(parentId);
      // The notify step itself is included in the count it reports.
      const payload: GroupDone = { outcome, steps: count() };
      await parent.sendEvent({ type: groupDoneEvent(g.epoch, g.sampleIdx), payload });
      return true;
    });
    return outcome;
  }
}
