import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { countedWhenDebugging } from "../src/db/counting";
import { epochPlan } from "../src/core/batching";
import { laneMembers, lanesOf } from "../src/core/stepBudget";
import { versionItems } from "../src/db/libraryVersions";
import { findGroup } from "../src/db/training";
import { updateBatch } from "../src/training/batch";
import { checkpoint } from "../src/training/checkpoint";
import { loadRunContext } from "../src/training/context";
import { recordDropped } from "../src/training/group";
import { countSteps } from "./stepCounter";
import {
  SEGMENT_STEPS,
  type RolloutLaneParams,
  type TrainingSegmentParams,
  laneDoneEvent,
  laneInstanceId,
  segmentDoneEvent,
  type LaneDone,
  type SegmentDone,
  type Stop,
} from "../src/durable/steps";
import { createInstances, rethrowEngineAbort } from "../src/durable/instances";
import { failFast } from "../src/durable/failFast";
import { sendEventTo } from "../src/durable/handles";

/** How long one rollout group may take before its lane's silence counts as lost (a lane waits this per group). */
export const GROUP_TIMEOUT_MS = 2 * 3600_000;

/**
 * A segment of a training run (docs/architecture.md §2, §4): consecutive batches of one epoch. Per batch
 * a checkpoint (cancel, budget, failing upstream), a fan-out to lanes — one child Workflow per group in
 * flight, each running its share of the batch's groups one after the other — then one batch update that
 * stores a new immutable library version. It reports the version it ended with to the run.
 */
export class TrainingSegmentWorkflow extends WorkflowEntrypoint<Env, TrainingSegmentParams> {
  constructor(ctx: ExecutionContext, env: Env) {
    super(ctx, countedWhenDebugging(env));
  }

  override async run(event: WorkflowEvent<TrainingSegmentParams>, engineStep: WorkflowStep): Promise<SegmentDone> {
    const p = event.payload;
    const { step, count } = countSteps(engineStep);
    let version = p.libraryVersion;
    let stop: Stop | null = null;
    const lanes = { steps: 0, max: 0 };
    try {
      const batches = epochPlan(p.samples, p.seed, p.epoch, p.batchSize);
      for (let batch = p.fromBatch; batch < p.toBatch && stop === null; batch++) {
        stop = await step.do(SEGMENT_STEPS.checkpoint(p.epoch, batch), () =>
          checkpoint(this.env, p.runId, { epoch: p.epoch, batch, epochs: p.epochs, budgetTokens: p.budgetTokens }),
        );
        if (stop) break;
        const members = batches[batch] ?? [];
        const laneCount = lanesOf(members.length, p.maxGroupsInFlight);
        const laneParams: RolloutLaneParams[] = Array.from({ length: laneCount }, (_, lane) => ({
          runId: p.runId,
          parentId: event.instanceId,
          epoch: p.epoch,
          batch,
          lane,
          sampleIdxs: laneMembers(members, laneCount, lane),
          libraryVersion: version,
        }));
        await step.do(SEGMENT_STEPS.spawn(p.epoch, batch), () => this.spawn(laneParams));
        const reports = await Promise.all(laneParams.map((lane) => this.awaitLane(step, lane)));
        for (const r of reports) {
          lanes.steps += r.steps;
          lanes.max = Math.max(lanes.max, r.steps);
        }
        // A lane that found the run cancelled left groups unrun: the batch is not applied.
        if (reports.some((r) => r.cancelled)) {
          stop = { status: "cancelled", reason: "cancelled by request", error: null };
          break;
        }
        const outcome = await step.do(SEGMENT_STEPS.update(p.epoch, batch), () =>
          failFast(async () => {
            const ctx = await loadRunContext(this.env, p.runId);
            return updateBatch(ctx, p.epoch, batch, { version, items: await versionItems(ctx.d, ctx.agent.id, version) });
          }),
        );
        version = outcome.version;
      }
    } catch (error) {
      rethrowEngineAbort(error);
      stop = { status: "failed", reason: "error", error: error instanceof Error ? error.message : String(error) };
    }
    // The notify step itself is included in the count it reports.
    const payload: SegmentDone = { version, stop, steps: { segment: count() + 1, lanes: lanes.steps, maxLane: lanes.max } };
    await step.do(SEGMENT_STEPS.notify, async () => {
      await sendEventTo(this.env.TRAINING_RUN, p.parentId, { type: segmentDoneEvent(p.epoch, p.segment), payload });
      return true;
    });
    // The instance's output is its report, so that recovery can send it again (src/recovery/recover.ts).
    return payload;
  }

  private async spawn(lanes: RolloutLaneParams[]): Promise<number> {
    await createInstances(
      this.env.ROLLOUT_LANE,
      lanes.map((params) => ({ id: laneInstanceId(params.runId, params.epoch, params.batch, params.lane), params })),
    );
    return lanes.length;
  }

  /** Waits for one lane's report; a lane silent past its time-out has its unrecorded groups recorded as dropped. */
  private async awaitLane(step: WorkflowStep, lane: RolloutLaneParams): Promise<LaneDone> {
    const timeout = GROUP_TIMEOUT_MS * Math.max(1, lane.sampleIdxs.length);
    try {
      const done = await step.waitForEvent<LaneDone>(SEGMENT_STEPS.waitLane(lane.epoch, lane.batch, lane.lane), {
        type: laneDoneEvent(lane.epoch, lane.batch, lane.lane),
        timeout,
      });
      return done.payload;
    } catch (error) {
      rethrowEngineAbort(error);
      await step.do(SEGMENT_STEPS.timedOutLane(lane.epoch, lane.batch, lane.lane), async () => {
        const ctx = await loadRunContext(this.env, lane.runId);
        for (const sampleIdx of lane.sampleIdxs) {
          if (!(await findGroup(ctx.d, lane.runId, lane.epoch, sampleIdx))) {
            const g = { epoch: lane.epoch, batch: lane.batch, sampleIdx, libraryVersion: lane.libraryVersion };
            await recordDropped(ctx, g, [], `its lane did not report within ${Math.round(timeout / 60_000)} minutes`);
          }
        }
        return true;
      });
      return { groups: 0, cancelled: false, steps: 0 };
    }
  }
}
