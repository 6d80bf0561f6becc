import type { Db } from "./client";

/**
 * The life cycle of stored data (docs/security.md, "Data lifecycle"): deleting a run with everything it
 * owns, and the retention the cron trigger applies to data derived from captured traffic. Written as
 * SQL over D1's client because each is a handful of set-based statements in one `batch()` (D1's only
 * transaction).
 */

const FINAL = "('completed', 'failed', 'cancelled')";

/** Evaluations still queued or running on a data set, or of an agent. */
export async function activeEvaluationCount(d: Db, where: { datasetId?: string; agentId?: string }): Promise<number> {
  const column = where.datasetId !== undefined ? "dataset_id" : "agent_id";
  const value = where.datasetId ?? where.agentId ?? "";
  const row = await d.$client
    .prepare(`select count(*) as n from evaluations where ${column} = ?1 and status in ('queued', 'running')`)
    .bind(value)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Deletes a finished run and what it owns, all or nothing: its rollouts, groups and batches, its LLM
 * calls, its gate evaluations (with their scores and calls), and the scheduled snapshot it trained on
 * when nothing else uses it. Library versions it made stay: they are the agent's history (and one may
 * be served); their provenance keeps the run id. False when the run is not there or not finished.
 */
export async function deleteFinishedRun(d: Db, runId: string): Promise<boolean> {
  const c = d.$client;
  // A finished run may still wait for its gate evaluation: that one must end first.
  const run = await c
    .prepare(
      `select id, dataset_id from runs where id = ?1 and status in ${FINAL} and not exists (select 1 from evaluations where run_id = ?1 and status in ('queued', 'running'))`,
    )
    .bind(runId)
    .first<{ id: string; dataset_id: string }>();
  if (!run) return false;
  const gateEvaluations = "select id from evaluations where run_id = ?1 and purpose = 'gate' and status not in ('queued', 'running')";
  // A scheduled snapshot no other run or evaluation uses goes with the run.
  const snapshot = await c
    .prepare(
      `select ?2 as id where ?2 in (select dataset_id from scheduled_runs where run_id = ?1)
         and not exists (select 1 from runs where dataset_id = ?2 and id <> ?1)
         and not exists (select 1 from evaluations where dataset_id = ?2 and coalesce(run_id, '') <> ?1)`,
    )
    .bind(runId, run.dataset_id)
    .first<{ id: string }>();
  await c.batch([
    c.prepare(`delete from llm_calls where owner_id = ?1 or owner_id in (${gateEvaluations})`).bind(runId),
    c.prepare(`delete from tool_results where owner_id = ?1 or owner_id in (${gateEvaluations})`).bind(runId),
    c.prepare(`delete from evaluation_scores where evaluation_id in (${gateEvaluations})`).bind(runId),
    c.prepare(`delete from evaluations where id in (${gateEvaluations})`).bind(runId),
    c.prepare("update scheduled_runs set run_id = null where run_id = ?1").bind(runId),
    // Rollouts, groups and batches go by the runs foreign key's cascade; the snapshot after its run.
    c.prepare(`delete from runs where id = ?1 and status in ${FINAL}`).bind(runId),
    ...(snapshot
      ? [
          c.prepare("update scheduled_runs set dataset_id = null where dataset_id = ?1").bind(snapshot.id),
          c.prepare("delete from samples where dataset_id = ?1").bind(snapshot.id),
          c.prepare("delete from datasets where id = ?1").bind(snapshot.id),
        ]
      : []),
  ]);
  return true;
}

export type RetentionReport = { rollouts: number; snapshotSamples: number };

/**
 * Retention of what was derived from captured traffic, per agent (its capture retention in days): for
 * finished runs that trained on a feedback-derived set (a scheduled snapshot or the feedback set
 * itself) longer ago than the retention, their rollouts, LLM calls (prompts and replies), tool results and group
 * analyses, and the snapshot's samples. Metrics, operations and library versions stay, and so do the
 * labelled samples of the feedback set (the user's own training data, which outlive their captures).
 * Likewise the LLM calls of finished replay evaluations older than the retention.
 * Data sets in use by a run or evaluation in progress are left alone.
 */
export async function applyRetention(d: Db, nowIso: string): Promise<RetentionReport> {
  const c = d.$client;
  const busy = `(select dataset_id from runs where status in ('queued', 'running') union select dataset_id from evaluations where status in ('queued', 'running'))`;
  const expiredRuns = `select r.id, r.dataset_id from runs r join agents a on a.id = r.agent_id join datasets ds on ds.id = r.dataset_id
    where r.status in ${FINAL} and ds.source = 'feedback' and r.dataset_id not in ${busy}
      and r.updated_at < strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || coalesce(json_extract(a.capture, '$.retentionDays'), 30) || ' days')`;
  // A replay evaluation's calls hold answers to captured conversations (docs/ownership.md): they go after
  // the same retention; its scores (numbers) stay with its figures.
  const expiredReplays = `select e.id from evaluations e join agents a on a.id = e.agent_id
    where e.kind = 'replay' and e.status not in ('queued', 'running')
      and e.updated_at < strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || coalesce(json_extract(a.capture, '$.retentionDays'), 30) || ' days')`;
  const [rollouts, , , , snapshots] = await c.batch<{ n: number }>([
    c.prepare(`delete from rollouts where run_id in (select id from (${expiredRuns})) returning 1 as n`).bind(nowIso),
    c.prepare(`delete from llm_calls where owner_id in (select id from (${expiredRuns}))`).bind(nowIso),
    c.prepare(`delete from tool_results where owner_id in (select id from (${expiredRuns}))`).bind(nowIso),
    c
      .prepare(
        `update groups set advantage = null, experiences = null where run_id in (select id from (${expiredRuns})) and advantage is not null`,
      )
      .bind(nowIso),
    c
      .prepare(
        `delete from samples where dataset_id in (select dataset_id from (${expiredRuns})) and dataset_id in (select dataset_id from scheduled_runs where dataset_id is not null) returning 1 as n`,
      )
      .bind(nowIso),
    c.prepare("update datasets set sample_count = (select count(*) from samples where dataset_id = datasets.id) where source = 'feedback'"),
    c.prepare(`delete from llm_calls where owner_id in (${expiredReplays})`).bind(nowIso),
  ]);
  return {
    rollouts: rollouts?.results.length ?? 0,
    snapshotSamples: snapshots?.results.length ?? 0,
  };
}
