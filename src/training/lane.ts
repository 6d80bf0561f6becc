import { cachedVersionItems } from "../db/libraryVersions";
import { findRun } from "../db/runs";
import { findGroup } from "../db/training";
import type { RunContext } from "./context";
import { runGroup, type GroupOutcome, type GroupRef } from "./group";

export type LaneGroupOutcome = GroupOutcome | "cancelled";

/**
 * One rollout group of a lane (workflows/rolloutLane.ts). `ctx` may be the lane's cached context: the
 * run's status is read afresh, so a cancelled run stops the lane before it pays for another group, and a
 * group whose outcome is already stored (a lane restarted by recovery) is not run again.
 */
export async function runLaneGroup(ctx: RunContext, g: GroupRef): Promise<LaneGroupOutcome> {
  const [run, stored] = await Promise.all([findRun(ctx.d, ctx.run.id), findGroup(ctx.d, ctx.run.id, g.epoch, g.sampleIdx)]);
  if (run?.status === "cancelled") return "cancelled";
  if (stored) return stored.status;
  return runGroup(ctx, g, await cachedVersionItems(ctx.d, ctx.agent.id, g.libraryVersion));
}
