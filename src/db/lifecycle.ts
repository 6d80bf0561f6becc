import type { Db } from "./client";
import { agentTextPrefix, ownerTextPrefix, ownerTextPrefixSql } from "./texts";

/**
 * The life cycle of stored data (docs/security.md, "Data lifecycle"): deleting a run with everything it
 * owns, and the retention the cron trigger applies to data derived from captured traffic. Written as
 * SQL over D1's client because each is a handful of set-based statements in one `batch()` (D1's only
 * transaction). Texts in R2 (docs/architecture.md §11) go with their rows: the same batch records a sweep
 * of their key prefix (src/db/textSweeps.ts), and the objects are deleted after it.
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

const SWEEP = "insert or ignore into text_sweeps (prefix, reason)";

/**
 * Deletes a finished run and what it owns, all or nothing: its rollouts, groups and batches, its LLM
 * calls, its gate evaluations (with their scores and calls), and the scheduled snapshot it trained on
 * when nothing else uses it; the R2 prefixes of the run and its gate evaluations are queued for the
 * sweep. Library versions it made stay: they are the agent's history (and one may be served); their
 * provenance keeps the run id. Returns the queued prefixes, or null when the run is not there or not
 * finished.
 */
export async function deleteFinishedRun(d: Db, runId: string): Promise<string[] | null> {
  const c = d.$client;
  // A finished run may still wait for its gate evaluation: that one must end first.
  const run = await c
    .prepare(
      `select id, agent_id, dataset_id from runs where id = ?1 and status in ${FINAL} and not exists (select 1 from evaluations where run_id = ?1 and status in ('queued', 'running'))`,
    )
    .bind(runId)
    .first<{ id: string; agent_id: string; dataset_id: string }>();
  if (!run) return null;
  const gateEvaluations = "select id from evaluations where run_id = ?1 and purpose = 'gate' and status not in ('queued', 'running')";
  const gates = await c.prepare(gateEvaluations).bind(runId).all<{ id: string }>();
  const prefixes = [runId, ...gates.results.map((e) => e.id)].map((owner) => ownerTextPrefix(run.agent_id, owner));
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
    ...prefixes.map((prefix) => c.prepare(`${SWEEP} values (?1, 'run deleted')`).bind(prefix)),
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
  return prefixes;
}

/**
 * Deletes an agent with everything it owns, all or nothing: what the agents foreign keys cascade to
 * (runs with their rollouts, groups and batches; evaluations with their scores; keys, usage, captures,
 * feedback, promotions, protocols, schedule records, library versions), and what they cannot reach: the
 * LLM calls and tool results of its runs and evaluations, its library items, and the scheduled
 * snapshots no other agent's run or evaluation uses. Its R2 prefix is queued for the sweep, and returned.
 * The caller refuses while a run or evaluation of the agent is in progress.
 */
export async function deleteAgentWithData(d: Db, agentId: string): Promise<string> {
  const c = d.$client;
  const owners = "select id from runs where agent_id = ?1 union all select id from evaluations where agent_id = ?1";
  const snapshots = await c
    .prepare(
      `select distinct dataset_id as id from scheduled_runs where agent_id = ?1 and dataset_id is not null
         and not exists (select 1 from runs where dataset_id = scheduled_runs.dataset_id and agent_id <> ?1)
         and not exists (select 1 from evaluations where dataset_id = scheduled_runs.dataset_id and agent_id <> ?1)`,
    )
    .bind(agentId)
    .all<{ id: string }>();
  const prefix = agentTextPrefix(agentId);
  await c.batch([
    c.prepare(`${SWEEP} values (?1, 'agent deleted')`).bind(prefix),
    c.prepare(`delete from llm_calls where owner_id in (${owners})`).bind(agentId),
    c.prepare(`delete from tool_results where owner_id in (${owners})`).bind(agentId),
    c.prepare("delete from library_items where agent_id = ?1").bind(agentId),
    c.prepare("delete from agents where id = ?1").bind(agentId),
    // The snapshots after the runs that referred to them.
    ...snapshots.results.flatMap(({ id }) => [
      c.prepare("delete from samples where dataset_id = ?1").bind(id),
      c.prepare("delete from datasets where id = ?1").bind(id),
    ]),
  ]);
  return prefix;
}

export type RetentionReport = { rollouts: number; snapshotSamples: number };

/**
 * Retention of what was derived from captured traffic, per agent (its capture retention in days): for
 * finished runs that trained on a feedback-derived set (a scheduled snapshot or the feedback set
 * itself) longer ago than the retention, their rollouts, LLM calls (replies), tool results and group
 * analyses, their texts in R2 (a sweep of the run's prefix), and the snapshot's samples. Metrics, operations and library versions stay, and so do the
 * labelled samples of the feedback set (the user's own training data, which outlive their captures).
 * Likewise the LLM calls of finished replay evaluations older than the retention.
 * Data sets in use by a run or evaluation in progress are left alone.
 */
export async function applyRetention(d: Db, nowIso: string): Promise<RetentionReport> {
  const c = d.$client;
  const busy = `(select dataset_id from runs where status in ('queued', 'running') union select dataset_id from evaluations where status in ('queued', 'running'))`;
  const expiredRuns = `select r.id, r.agent_id, r.dataset_id from runs r join agents a on a.id = r.agent_id join datasets ds on ds.id = r.dataset_id
    where r.status in ${FINAL} and ds.source = 'feedback' and r.dataset_id not in ${busy}
      and r.updated_at < strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || coalesce(json_extract(a.capture, '$.retentionDays'), 30) || ' days')`;
  // A replay evaluation's calls hold answers to captured conversations (docs/ownership.md): they go after
  // the same retention, with their texts in R2; its scores (numbers) stay with its figures.
  const expiredReplays = `select e.id, e.agent_id from evaluations e join agents a on a.id = e.agent_id
    where e.kind = 'replay' and e.status not in ('queued', 'running')
      and e.updated_at < strftime('%Y-%m-%dT%H:%M:%fZ', ?1, '-' || coalesce(json_extract(a.capture, '$.retentionDays'), 30) || ' days')`;
  // A sweep only for runs that still hold something: the same expired runs are seen again every tick.
  const holdsTexts = `exists (select 1 from rollouts where run_id = e.id) or exists (select 1 from llm_calls where owner_id = e.id)
    or exists (select 1 from tool_results where owner_id = e.id)
    or exists (select 1 from groups where run_id = e.id and (advantage is not null or advantage_ref is not null))`;
  const [, , rollouts, , , , snapshots] = await c.batch<{ n: number }>([
    c
      .prepare(`${SWEEP} select ${ownerTextPrefixSql("e.agent_id", "e.id")}, 'retention' from (${expiredRuns}) e where ${holdsTexts}`)
      .bind(nowIso),
    c
      .prepare(
        `${SWEEP} select ${ownerTextPrefixSql("e.agent_id", "e.id")}, 'retention' from (${expiredReplays}) e
           where exists (select 1 from llm_calls where owner_id = e.id)`,
      )
      .bind(nowIso),
    c.prepare(`delete from rollouts where run_id in (select id from (${expiredRuns})) returning 1 as n`).bind(nowIso),
    c.prepare(`delete from llm_calls where owner_id in (select id from (${expiredRuns}))`).bind(nowIso),
    c.prepare(`delete from tool_results where owner_id in (select id from (${expiredRuns}))`).bind(nowIso),
    c
      .prepare(
        `update groups set advantage = null, advantage_ref = null, experiences = null where run_id in (select id from (${expiredRuns}))
           and (advantage is not null or advantage_ref is not null or experiences is not null)`,
      )
      .bind(nowIso),
    c
      .prepare(
        `delete from samples where dataset_id in (select dataset_id from (${expiredRuns})) and dataset_id in (select dataset_id from scheduled_runs where dataset_id is not null) returning 1 as n`,
      )
      .bind(nowIso),
    c.prepare("update datasets set sample_count = (select count(*) from samples where dataset_id = datasets.id) where source = 'feedback'"),
    c.prepare(`delete from llm_calls where owner_id in (select id from (${expiredReplays}))`).bind(nowIso),
  ]);
  return {
    rollouts: rollouts?.results.length ?? 0,
    snapshotSamples: snapshots?.results.length ?? 0,
  };
}
