import type { LiveSums } from "../core/liveFigures";
import type { Db } from "./client";

/**
 * Live traffic per served library version, from the usage log joined to `/v1/feedback` by request id
 * (docs/serving.md, "Live metrics"). A request counts one reward: the latest feedback on it that carries
 * one, sent with the proxy key that made the request — any key of an agent may send feedback, but one
 * key's ratings of another key's requests must not steer a canary's decision. An error is a reply of status 400 or more other than 499 (the client went away, which says
 * nothing about the version).
 */

const ERROR = "case when u.status >= 400 and u.status <> 499 then 1 else 0 end";

/**
 * The latest reward per request and sending key of the agent since `?2` (bound by the caller as ?1 =
 * agent, ?2 = since); joined on both, so only the requesting key's rating counts.
 */
const LATEST_REWARD = `
  select request_id, key_id, reward from (
    select request_id, key_id, reward, row_number() over (partition by request_id, key_id order by created_at desc, id desc) as rn
    from feedback where agent_id = ?1 and reward is not null and created_at >= ?2 and key_id is not null
  ) where rn = 1`;

const JOIN_REWARD = "left join f on f.request_id = u.request_id and f.key_id = u.key_id";

export type ArmRow = { version: number | null; requests: number; errors: number; feedback: number; rewardSum: number };

/** Sums per version over the requests a canary assigned (both arms): what its decision rule reads. */
export async function canaryArmRows(d: Db, canary: { id: string; agentId: string; createdAt: string }): Promise<ArmRow[]> {
  const { results } = await d.$client
    .prepare(
      `with f as (${LATEST_REWARD})
       select u.version as version, count(*) as requests, coalesce(sum(${ERROR}), 0) as errors,
              count(f.reward) as feedback, coalesce(sum(f.reward), 0) as rewardSum
       from usage_logs u ${JOIN_REWARD}
       where u.canary_id = ?3
       group by u.version`,
    )
    .bind(canary.agentId, canary.createdAt, canary.id)
    .all<ArmRow>();
  return results;
}

/** One version's sums over one time bucket (the index from `since`), or over the whole window (bucket null). */
export type LiveRow = LiveSums & { version: number | null; bucket: number | null };

export type LiveQuery = { agentId: string; since: string; until: string; bucketSeconds: number; canaryId: string | null };

/**
 * Per version and time bucket, and per version over the whole window, in one statement. Latency
 * percentiles are exact (nearest rank, from the window functions' ordering), not estimated from a
 * histogram: SQLite has no percentile aggregate, and D1 does not promise its optional math functions.
 */
export async function liveRows(d: Db, q: LiveQuery): Promise<LiveRow[]> {
  const rank = (p: number, r: string, n: string) => `max(case when ${r} = (${n} * ${p} + 99) / 100 then latency_ms end)`;
  const sums = `count(*) as requests, coalesce(sum(err), 0) as errors, coalesce(sum(pt), 0) as promptTokens,
                coalesce(sum(ct), 0) as completionTokens, count(reward) as feedback, coalesce(sum(reward), 0) as rewardSum`;
  const { results } = await d.$client
    .prepare(
      `with f as (${LATEST_REWARD}),
       ranked as (
         select u.version as version, u.latency_ms as latency_ms, ${ERROR} as err,
                coalesce(u.prompt_tokens, 0) as pt, coalesce(u.completion_tokens, 0) as ct, f.reward as reward,
                cast((julianday(u.created_at) - julianday(?2)) * 86400 / ?4 as integer) as bucket,
                row_number() over (partition by u.version, cast((julianday(u.created_at) - julianday(?2)) * 86400 / ?4 as integer) order by u.latency_ms) as rb,
                count(*) over (partition by u.version, cast((julianday(u.created_at) - julianday(?2)) * 86400 / ?4 as integer)) as nb,
                row_number() over (partition by u.version order by u.latency_ms) as ra,
                count(*) over (partition by u.version) as na
         from usage_logs u ${JOIN_REWARD}
         where u.agent_id = ?1 and u.created_at >= ?2 and u.created_at < ?3 and (?5 is null or u.canary_id = ?5)
       )
       select version, bucket, ${sums}, ${rank(50, "rb", "nb")} as latencyP50, ${rank(95, "rb", "nb")} as latencyP95
       from ranked group by version, bucket
       union all
       select version, null, ${sums}, ${rank(50, "ra", "na")}, ${rank(95, "ra", "na")}
       from ranked group by version`,
    )
    .bind(q.agentId, q.since, q.until, q.bucketSeconds, q.canaryId)
    .all<LiveRow>();
  return results;
}
