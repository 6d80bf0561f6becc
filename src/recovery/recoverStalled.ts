import type { Db } from "../db/client";
import { finishEvaluation, stalledEvaluations, touchEvaluation } from "../db/evaluationRows";
import { finishRun, updateRun } from "../db/runs";
import { recordRecovery, stalledRuns } from "../db/scheduledRuns";
import { describeRecovery, describeRunRecovery, recoverEvaluation, recoverRun } from "./recover";

export type Recovered = { kind: "run" | "evaluation"; id: string; action: string };

/** Runs and evaluations recovered per call, of each kind: one call stays short however many stalled. */
export const RECOVERIES_PER_CALL = 20;

/**
 * Recovers every queued or running run and evaluation whose last progress is older than `before` (ISO),
 * at most `limit` in all: used by the cron trigger (after STALE_RUN_MINUTES) and by `npm start` when
 * it brings the local stack up again (everything it finds is stalled then). Each recovery is recorded
 * with `detail`; one that fails is recorded as failed and the others go on. A parent instance found
 * ended (errored, terminated) while its row says running makes the row failed.
 */
export async function recoverStalled(env: Env, d: Db, before: string, detail: string, limit = RECOVERIES_PER_CALL): Promise<Recovered[]> {
  const out: Recovered[] = [];
  const handle = async (
    kind: "run" | "evaluation",
    id: string,
    recover: () => Promise<string>,
    ended: (status: string) => Promise<void>,
    touch: () => Promise<void>,
  ) => {
    let action: string;
    try {
      action = await recover();
      if (action.startsWith("instance ")) await ended(action.slice("instance ".length));
    } catch (error) {
      action = `recovery failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    await touch();
    await recordRecovery(d, { kind, targetId: id, action, detail });
    out.push({ kind, id, action });
  };
  // `limit` in all, runs first: one call's work stays within an invocation's limits.
  const runs = (await stalledRuns(d, before)).slice(0, limit);
  for (const run of runs) {
    await handle(
      "run",
      run.id,
      async () => describeRunRecovery(await recoverRun(env, run.id)),
      (status) => finishRun(d, run.id, "failed", { error: `its Workflow instance is ${status}`, reason: "error" }),
      () => updateRun(d, run.id, {}),
    );
  }
  for (const e of (await stalledEvaluations(d, before)).slice(0, limit - runs.length)) {
    await handle(
      "evaluation",
      e.id,
      async () => {
        const r = await recoverEvaluation(env, e.id);
        return describeRecovery(r.evaluation, "chunk", { ...r, nudged: r.chunks });
      },
      (status) => finishEvaluation(d, e.id, { status: "failed", error: `its Workflow instance is ${status}` }),
      () => touchEvaluation(d, e.id),
    );
  }
  return out;
}
