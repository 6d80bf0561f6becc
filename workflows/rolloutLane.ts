import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { countedWhenDebugging } from "../src/db/counting";
import { groupRewards } from "../src/db/training";
import { loadRunContext, type RunContext } from "../src/training/context";
import { recordDropped, type GroupRef } from "../src/training/group";
import { runLaneGroup, type LaneGroupOutcome } from "../src/training/lane";
import { countSteps } from "./stepCounter";
import { LANE_STEPS, laneDoneEvent, type LaneDone, type RolloutLaneParams } from "../src/durable/steps";
import { rethrowEngineAbort } from "../src/durable/instances";
import { failFast } from "../src/durable/failFast";
import { sendEventTo } from "../src/durable/handles";

/** One more try of a failed group (its paid calls are reused); the client already retried each call. */
const GROUP_STEP_CONFIG = { retries: { limit: 1, delay: "30 seconds", backoff: "constant" } } as const;

/**
 * One lane of a batch (docs/architecture.md §4): its share of the batch's rollout groups, one after the
 * other, in its own Worker invocations. Each group is one idempotent step — rollouts, rewards, filter,
 * summaries, group advantage and group update, every LLM call stored as it is paid, so a retried step
 * pays only for what is missing — and the lane ends with one report to its segment. A lane that finds
 * the run cancelled stops before its next group. Bulk text stays in D1 or R2 (docs/architecture.md §11).
 */
export class RolloutLaneWorkflow extends WorkflowEntrypoint<Env, RolloutLaneParams> {
  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, countedWhenDebugging(env));
  }

  /** The run's context, loaded once per invocation: run, agent, parameters and upstream do not change during a run. */
  private context: Promise<RunContext> | null = null;

  override async run(event: WorkflowEvent<RolloutLaneParams>, engineStep: WorkflowStep): Promise<LaneDone> {
    const { runId, parentId, epoch, batch, lane, sampleIdxs, libraryVersion } = event.payload;
    const { step, count } = countSteps(engineStep);
    let groups = 0;
    let cancelled = false;
    for (const sampleIdx of sampleIdxs) {
      const g: GroupRef = { epoch, batch, sampleIdx, libraryVersion };
      let outcome: LaneGroupOutcome;
      try {
        outcome = await step.do(LANE_STEPS.group(sampleIdx), GROUP_STEP_CONFIG, () =>
          failFast(async () => runLaneGroup(await this.load(runId), g)),
        );
      } catch (error) {
        // The step failed for good (its retries are spent): the group is dropped with the reason.
        rethrowEngineAbort(error);
        const reason = error instanceof Error ? error.message : String(error);
        outcome = await step.do(LANE_STEPS.drop(sampleIdx), async () => {
          const ctx = await loadRunContext(this.env, runId);
          const rewards = await groupRewards(ctx.d, runId, epoch, sampleIdx);
          await recordDropped(ctx, g, rewards.length === ctx.params.groupSize ? rewards : [], reason);
          return "dropped" as const;
        });
      }
      if (outcome === "cancelled") {
        cancelled = true;
        break;
      }
      groups++;
    }
    // The notify step itself is included in the count it reports.
    const payload: LaneDone = { groups, cancelled, steps: count() + 1 };
    await step.do(LANE_STEPS.notify, async () => {
      await sendEventTo(this.env.TRAINING_SEGMENT, parentId, { type: laneDoneEvent(epoch, batch, lane), payload });
      return true;
    });
    // The instance's output is its report, so that recovery can send it again (src/recovery/recover.ts).
    return payload;
  }

  private load(runId: string): Promise<RunContext> {
    this.context ??= loadRunContext(this.env, runId).catch((error: unknown) => {
      this.context = null;
      throw error;
    });
    return this.context;
  }
}
