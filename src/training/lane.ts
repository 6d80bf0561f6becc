import { nothingStored, preloadCalls } from "../calls/llmCall";
import { anyCallWithPrefixQuery } from "../db/llmCalls";
import { sampleQuery } from "../db/datasets";
import { cachedVersionItems } from "../db/libraryVersions";
import { runStatusQuery } from "../db/runs";
import { groupQuery, groupRolloutsQuery, readRollouts } from "../db/training";
import type { RunContext } from "./context";
import { groupKeyPrefix, runGroup, type GroupOutcome, type GroupRef } from "./group";

export type LaneGroupOutcome = GroupOutcome | "cancelled";

/**
 * One rollout group of a lane (workflows/rolloutLane.ts). `ctx` may be the lane's cached context: what
 * changes is read afresh, in one round trip before the group's first call — the run's status (a
 * cancelled run stops the lane before it pays for another group), the group's outcome (a lane
 * restarted by recovery does not run a recorded group again), the sample, the rollouts already stored,
 * and whether any of the group's calls is stored (only then are they read, in one more query).
 */
export async function runLaneGroup(ctx: RunContext, g: GroupRef): Promise<LaneGroupOutcome> {
  const prefix = groupKeyPrefix(g);
  const [run, stored, sample, rollouts, anyCall] = await ctx.d.batch([
    runStatusQuery(ctx.d, ctx.run.id),
    groupQuery(ctx.d, ctx.run.id, g.epoch, g.sampleIdx),
    sampleQuery(ctx.d, ctx.run.datasetId, g.sampleIdx),
    groupRolloutsQuery(ctx.d, ctx.run.id, g.epoch, g.sampleIdx),
    anyCallWithPrefixQuery(ctx.d, ctx.run.id, prefix),
  ]);
  if (run[0]?.status === "cancelled") return "cancelled";
  if (stored[0]) return stored[0].status;
  if (!sample[0]) throw new Error(`sample ${g.sampleIdx} of the run's data set is missing`);
  // A group's first attempt finds nothing stored and reads no call; a retry reads them all in one query.
  const call = anyCall.length > 0 ? await preloadCalls(ctx.call, prefix) : nothingStored(ctx.call, prefix);
  return runGroup(ctx, g, await cachedVersionItems(ctx.d, ctx.agent.id, g.libraryVersion), {
    call,
    sample: sample[0],
    rollouts: rollouts.length === 0 ? [] : await readRollouts(ctx.call.texts, rollouts),
  });
}
