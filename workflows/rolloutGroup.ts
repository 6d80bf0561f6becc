import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { cachedVersionItems } from "../src/db/libraryVersions";
import { groupRewards } from "../src/db/training";
import { loadRunContext } from "../src/training/context";
import { recordDropped, runGroup, type GroupRef } from "../src/training/group";
import { countSteps } from "./stepCounter";
import { GROUP_STEPS, groupDoneEvent, type GroupDone } from "../src/durable/steps";
import { rethrowEngineAbort } from "../src/durable/instances";
import { failFast } from "../src/durable/failFast";

/** One more try of a failed group (its paid calls are reused); the client already retried each call. */
const GROUP_STEP_CONFIG = { retries: { limit: 1, delay: "30 seconds", backoff: "constant" } } as const;
import { sendEventTo } from "../src/durable/handles";

export type RolloutGroupParams = GroupRef & { runId: string; parentId: string };

/**
 * One rollout group in its own Worker invocations: rollouts, rewards, filter, summaries, group advantage
 * and group update in one idempotent step (each LLM call is stored as it is paid, so a retried step pays
 * only for what is missing), then a report to the parent run. Two steps per group keep the engine's
 * bookkeeping small next to the LLM calls; bulk text stays in D1 or R2 (docs/architecture.md §11).
 */
export class RolloutGroupWorkflow extends WorkflowEntrypoint<Env, RolloutGroupParams> {
  override async run(event: WorkflowEvent<RolloutGroupParams>, engineStep: WorkflowStep): Promise<GroupDone> {
    const { runId, parentId, ...g } = event.payload;
    const { step, count } = countSteps(engineStep);
    let outcome: string;
    try {
      outcome = await step.do(GROUP_STEPS.group, GROUP_STEP_CONFIG, () =>
        failFast(async () => {
          const ctx = await loadRunContext(this.env, runId);
          if (ctx.run.status === "cancelled") {
            await recordDropped(ctx, g, [], "run cancelled");
            return "dropped";
          }
          return runGroup(ctx, g, await cachedVersionItems(ctx.d, ctx.agent.id, g.libraryVersion));
        }),
      );
    } catch (error) {
      // The step failed for good (its retries are spent): the group is dropped with the reason.
      rethrowEngineAbort(error);
      const reason = error instanceof Error ? error.message : String(error);
      outcome = await step.do(GROUP_STEPS.drop, async () => {
        const ctx = await loadRunContext(this.env, runId);
        const rewards = await groupRewards(ctx.d, runId, g.epoch, g.sampleIdx);
        await recordDropped(ctx, g, rewards.length === ctx.params.groupSize ? rewards : [], reason);
        return "dropped";
      });
    }
    // The notify step itself is included in the count it reports.
    const payload: GroupDone = { outcome, steps: count() + 1 };
    await step.do(GROUP_STEPS.notify, async () => {
      await sendEventTo(this.env.TRAINING_RUN, parentId, { type: groupDoneEvent(g.epoch, g.sampleIdx), payload });
      return true;
    });
    // The instance's output is its report, so that recovery can send it again (src/recovery/recover.ts).
    return payload;
  }
}
