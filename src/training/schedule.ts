import { periodOf, periodStart } from "../core/schedule";
import { scheduleConfigSchema } from "../core/policies";
import { db, type Db } from "../db/client";
import { feedbackDatasetName, purgeExpiredCaptures } from "../db/captures";
import { findDataset } from "../db/datasets";
import { activeRunCount } from "../db/runs";
import { claimPeriod, scheduledAgents, snapshotDataset, updateScheduledRun } from "../db/schedule";
import { envString } from "../llm/upstream";
import { recoverStalled } from "./recoverStalled";
import { startRun } from "./startRun";

/**
 * The cron trigger's work: purge captures past retention, recover runs and evaluations that stopped
 * progressing (DESIGN §4: pause() then resume()), and start each agent's scheduled retraining when its
 * period is due — at most one per agent and period, however often the trigger fires.
 */

export const DEFAULT_STALE_MINUTES = 30;

export type ScheduledReport = {
  purgedCaptures: number;
  recovered: { kind: "run" | "evaluation"; id: string; action: string }[];
  started: { agentId: string; period: number; runId: string; datasetId: string; feedbackSamples: number }[];
  skipped: { agentId: string; period: number; reason: string }[];
};

export async function runScheduled(env: Env, nowMs: number): Promise<ScheduledReport> {
  const d = db(env.DB);
  const report: ScheduledReport = { purgedCaptures: 0, recovered: [], started: [], skipped: [] };
  report.purgedCaptures = await purgeExpiredCaptures(d, new Date(nowMs).toISOString());
  report.recovered = await recoverAfterStale(env, d, nowMs);
  for (const agent of await scheduledAgents(d)) {
    const parsed = scheduleConfigSchema.safeParse(agent.schedule);
    if (!parsed.success || !parsed.data.enabled) continue;
    const schedule = parsed.data;
    const period = periodOf(nowMs, schedule.everyHours);
    if (!(await claimPeriod(d, agent.id, period))) continue;
    const skip = async (reason: string, status: "skipped" | "failed" = "skipped") => {
      await updateScheduledRun(d, agent.id, period, { status, reason });
      report.skipped.push({ agentId: agent.id, period, reason });
    };
    try {
      if ((await activeRunCount(d, { agentId: agent.id })) > 0) {
        await skip("a run of this agent is still in progress");
        continue;
      }
      const train = await findDataset(d, schedule.trainingDataset);
      if (!train) {
        await skip(`training data set '${schedule.trainingDataset}' not found`, "failed");
        continue;
      }
      const fb = await findDataset(d, feedbackDatasetName(agent.name));
      const snapshot = await snapshotDataset(
        d,
        {
          name: `${agent.name}-sched-${period}`.slice(0, 100),
          description: `Scheduled retraining of ${agent.name} for the period starting ${periodStart(period, schedule.everyHours).toISOString()}: ${train.name} plus labelled feedback.`,
        },
        train.id,
        fb && fb.source === "feedback" ? fb.id : null,
      );
      const dataset = await findDataset(d, snapshot.id);
      if (!dataset || dataset.sampleCount === 0) {
        await skip("the training snapshot is empty", "failed");
        continue;
      }
      const run = await startRun(env, {
        agent,
        dataset,
        overrides: schedule.hyperparams ?? {},
        fromVersion: agent.activeVersion ?? 0,
        kind: "scheduled",
      });
      await updateScheduledRun(d, agent.id, period, {
        status: "started",
        runId: run.id,
        datasetId: dataset.id,
        feedbackSamples: snapshot.feedbackSamples,
      });
      report.started.push({ agentId: agent.id, period, runId: run.id, datasetId: dataset.id, feedbackSamples: snapshot.feedbackSamples });
    } catch (error) {
      await skip(`could not start: ${error instanceof Error ? error.message : String(error)}`, "failed");
    }
  }
  return report;
}

async function recoverAfterStale(env: Env, d: Db, nowMs: number): Promise<ScheduledReport["recovered"]> {
  const raw = Number(envString(env, "STALE_RUN_MINUTES"));
  const minutes = Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_STALE_MINUTES;
  return recoverStalled(env, d, new Date(nowMs - minutes * 60_000).toISOString(), `no progress for over ${minutes} minutes`);
}
