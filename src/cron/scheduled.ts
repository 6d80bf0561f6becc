import { periodOf, periodStart } from "../core/periods";
import { scheduleConfigSchema } from "../core/policies";
import { db, type Db } from "../db/client";
import { feedbackDatasetName, purgeExpiredCaptures } from "../db/captures";
import { findDataset } from "../db/datasets";
import { activeRunCount } from "../db/runs";
import { claimPeriod, scheduledAgents, snapshotDataset, updateScheduledRun } from "../db/scheduledRuns";
import { envString } from "../shared/env";
import { recoverStalled } from "../recovery/recoverStalled";
import { startRun } from "../training/startRun";
import { applyRetention, type RetentionReport } from "../db/lifecycle";
import { IDEMPOTENCY_RETENTION_MS, purgeIdempotencyKeys } from "../db/idempotency";
import { describeError } from "../shared/logging";
import { listRunningCanaries } from "../db/canaries";
import { flushUsage } from "../serving/usageLog";
import { settleCanary, type Settlement } from "../promotion/canary";
import { sweepTexts, TEXT_SWEEP_OBJECTS_PER_TICK, type SweepReport } from "../db/textSweeps";

/**
 * The cron trigger's work: purge captures past retention, delete texts in R2 whose rows were deleted
 * (a bounded batch per tick, docs/architecture.md §11), recover runs and evaluations that stopped
 * progressing (docs/architecture.md §4: pause() then resume()), settle running canaries (docs/serving.md,
 * "Canary"), and start each agent's scheduled retraining when its period is due — at most one per agent
 * and period, however often the trigger fires.
 */

export const DEFAULT_STALE_MINUTES = 30;

/** Stalled runs plus evaluations recovered in one tick at most; the rest wait for the next tick. */
export const MAX_RECOVERIES_PER_TICK = 10;

export type ScheduledReport = {
  purgedCaptures: number;
  retention: RetentionReport | null;
  purgedIdempotencyKeys: number;
  /** R2 objects of deleted rows removed this tick; null when the phase did not run to its end. */
  texts: SweepReport | null;
  /** Phases that failed this tick (the others still ran). */
  errors: { phase: "retention" | "texts" | "recovery" | "canary" | "schedule"; message: string }[];
  recovered: { kind: "run" | "evaluation"; id: string; action: string }[];
  started: { agentId: string; period: number; runId: string; datasetId: string; feedbackSamples: number; capturedSamples: number }[];
  skipped: { agentId: string; period: number; reason: string }[];
  /** What the canary rule did to each running canary (waiting ones included). */
  canaries: (Settlement & { agentId: string })[];
};

export async function runScheduled(env: Env, nowMs: number): Promise<ScheduledReport> {
  const d = db(env.DB);
  const report: ScheduledReport = {
    purgedCaptures: 0,
    retention: null,
    purgedIdempotencyKeys: 0,
    texts: null,
    errors: [],
    recovered: [],
    started: [],
    skipped: [],
    canaries: [],
  };
  const now = new Date(nowMs).toISOString();
  // Each phase on its own: one that fails is logged and reported, and never keeps the others from running.
  const phase = async (name: ScheduledReport["errors"][number]["phase"], work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      const message = describeError(error, env);
      console.error(`cron phase ${name} failed: ${message}`);
      report.errors.push({ phase: name, message });
    }
  };
  await phase("retention", async () => {
    report.purgedCaptures = await purgeExpiredCaptures(d, now);
    report.retention = await applyRetention(d, now);
    report.purgedIdempotencyKeys = await purgeIdempotencyKeys(d, new Date(nowMs - IDEMPOTENCY_RETENTION_MS).toISOString());
  });
  // After retention, so that what it expired this tick is swept in the same tick.
  await phase("texts", async () => {
    report.texts = await sweepTexts(d, env.TEXTS, nowMs, TEXT_SWEEP_OBJECTS_PER_TICK);
  });
  await phase("recovery", async () => {
    report.recovered = await recoverAfterStale(env, d, nowMs);
  });
  await phase("canary", () => settleCanaries(env, d, report));
  await phase("schedule", () => scheduleDue(env, d, nowMs, report));
  return report;
}

/**
 * Applies the canary rule to every running canary: feedback and errors settle a canary as they arrive,
 * but rows flushed by other isolates after that, and changes made behind the API's back (a version
 * deleted, the active version set by SQL), are caught here. One canary's failure does not stop the others.
 */
async function settleCanaries(env: Env, d: Db, report: ScheduledReport): Promise<void> {
  const failures: string[] = [];
  // This isolate's own buffered usage rows count too.
  await flushUsage(env);
  for (const canary of await listRunningCanaries(d)) {
    try {
      const settled = await settleCanary(env, canary.agentId);
      if (settled) report.canaries.push({ agentId: canary.agentId, ...settled });
    } catch (error) {
      failures.push(`${canary.id}: ${describeError(error, env)}`);
    }
  }
  if (failures.length > 0) throw new Error(failures.join("; "));
}

/** Starts each agent's scheduled retraining whose period is due (one run per agent and period). */
async function scheduleDue(env: Env, d: Db, nowMs: number, report: ScheduledReport): Promise<void> {
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
      const train = schedule.trainingDataset === undefined ? null : await findDataset(d, schedule.trainingDataset);
      if (schedule.trainingDataset !== undefined && !train) {
        await skip(`training data set '${schedule.trainingDataset}' not found`, "failed");
        continue;
      }
      const fb = await findDataset(d, feedbackDatasetName(agent.name));
      const sources = [
        train ? `${train.name} plus approved feedback` : null,
        schedule.captures ? `captured exchanges of the last ${schedule.captures.days} day(s), unlabelled` : null,
      ];
      const snapshot = await snapshotDataset(
        d,
        {
          name: `${agent.name}-sched-${period}`.slice(0, 100),
          description: `Scheduled retraining of ${agent.name} for the period starting ${periodStart(period, schedule.everyHours).toISOString()}: ${sources.filter(Boolean).join("; ")}.`,
        },
        train?.id ?? null,
        fb && fb.source === "feedback" && train ? fb.id : null,
        schedule.captures
          ? {
              agentId: agent.id,
              since: new Date(nowMs - schedule.captures.days * 24 * 3_600_000).toISOString(),
              now: new Date(nowMs).toISOString(),
            }
          : null,
      );
      const dataset = await findDataset(d, snapshot.id);
      if (!dataset || dataset.sampleCount === 0) {
        await skip("the training snapshot is empty", "failed");
        continue;
      }
      const run = await startRun(env, {
        agent,
        dataset,
        // Captured exchanges carry no answer: the run learns without ground truth (docs/learning.md).
        overrides: schedule.captures ? { ...schedule.hyperparams, groundTruth: false } : (schedule.hyperparams ?? {}),
        fromVersion: agent.activeVersion ?? 0,
        kind: "scheduled",
      });
      await updateScheduledRun(d, agent.id, period, {
        status: "started",
        runId: run.id,
        datasetId: dataset.id,
        feedbackSamples: snapshot.feedbackSamples,
      });
      report.started.push({
        agentId: agent.id,
        period,
        runId: run.id,
        datasetId: dataset.id,
        feedbackSamples: snapshot.feedbackSamples,
        capturedSamples: snapshot.capturedSamples,
      });
    } catch (error) {
      await skip(`could not start: ${error instanceof Error ? error.message : String(error)}`, "failed");
    }
  }
}

/** Recovers what has made no progress for STALE_RUN_MINUTES, at most MAX_RECOVERIES_PER_TICK in all. */
async function recoverAfterStale(env: Env, d: Db, nowMs: number): Promise<ScheduledReport["recovered"]> {
  const raw = Number(envString(env, "STALE_RUN_MINUTES"));
  const minutes = Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_STALE_MINUTES;
  return recoverStalled(
    env,
    d,
    new Date(nowMs - minutes * 60_000).toISOString(),
    `no progress for over ${minutes} minutes`,
    MAX_RECOVERIES_PER_TICK,
  );
}
