import { preloadCalls } from "../calls/llmCall";
import { sampleQuery } from "../db/datasets";
import { cachedVersionItems } from "../db/libraryVersions";
import { runStatusQuery } from "../db/runs";
import { groupQuery, groupRolloutsQuery } from "../db/training";
import type { RunContext } from "./context";
import { groupKeyPrefix, runGroup, type GroupOutcome, type GroupRef } from "./group";

export type LaneGroupOutcome = GroupOutcome | "cancelled";

/**
 * One rollout group of a lane (workflows/rolloutLane.ts). `ctx` may be the lane's cached context: what
 * changes is read afresh, in one round trip before the group's first call — the run's status (a
 * cancelled run stops the lane before it pays for another group), the group's outcome (a lane
 * restarted by recovery does not run a recorded group again), the sample, the rollouts already stored —
 * while the group's stored calls are read alongside.
 */
export async function runLaneGroup(ctx: RunContext, g: GroupRef): Promise<LaneGroupOutcome> {
  const [[run, stored, sample, rollouts], call] = await Promise.all([
    ctx.d.batch([
      runStatusQuery(ctx.d, ctx.run.id),
      groupQuery(ctx.d, ctx.run.id, g.epoch, g.sampleIdx),
      sampleQuery(ctx.d, ctx.run.datasetId, g.sampleIdx),
      groupRolloutsQuery(ctx.d, ctx.run.id, g.epoch, g.sampleIdx),
    ]),
    preloadCalls(ctx.call, groupKeyPrefix(g)),
  ]);
  if (run[0]?.status === "cancelled") return "cancelled";
  if (stored[0]) return stored[0].status;
  if (!sample[0]) throw new Error(`sample ${g.sampleIdx} of the run's data set is missing`);
  return runGroup(ctx, g, await cachedVersionItems(ctx.d, ctx.agent.id, g.libraryVersion), { call, sample: sample[0], rollouts });
}
