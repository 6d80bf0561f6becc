import { bucketCount, chooseBucketSeconds, liveByVersion } from "../core/liveFigures";
import type { AgentRow } from "../db/agents";
import { findCanary, findRunningCanary, type CanaryRow } from "../db/canaries";
import { db } from "../db/client";
import { liveRows } from "../db/liveMetrics";
import { flushUsage } from "../serving/usageLog";
import { badRequest, notFound } from "../shared/errors";
import { canaryVerdict } from "./canary";
import type { CanaryVerdict } from "../core/canaryDecision";

/**
 * Live metrics per served version (docs/serving.md, "Live metrics"): over a window (by default the
 * running canary's life, else the last 24 hours), per version and time bucket and over the whole window.
 */

const DAY_MS = 86_400_000;
/** The longest window one request may cover: the query sorts the window's rows for its percentiles. */
export const MAX_WINDOW_DAYS = 31;
export const MAX_BUCKETS = 500;

export type LiveQuery = { since?: string; until?: string; bucketSeconds?: number; canary?: string };

export type LiveResult = {
  agentId: string;
  since: string;
  until: string;
  bucketSeconds: number;
  canaryId: string | null;
  versions: (ReturnType<typeof liveByVersion>[number] & { label: string; arm: "candidate" | "active" | null })[];
  canary: CanaryRow | null;
  verdict: CanaryVerdict | null;
};

export async function liveMetrics(env: Env, agent: AgentRow, q: LiveQuery, nowMs: number): Promise<LiveResult> {
  const d = db(env.DB);
  // What this isolate served is counted too.
  await flushUsage(env);
  let canary: CanaryRow | null = null;
  if (q.canary !== undefined) {
    const found = await findCanary(d, q.canary);
    if (!found || found.agentId !== agent.id) throw notFound("canary", q.canary);
    canary = found;
  } else {
    canary = (await findRunningCanary(d, agent.id)) ?? null;
  }
  const untilMs =
    q.until !== undefined ? Date.parse(q.until) : canary?.endedAt && q.canary !== undefined ? Date.parse(canary.endedAt) : nowMs;
  const defaultSince = canary ? Date.parse(canary.createdAt) : untilMs - DAY_MS;
  const sinceMs = q.since !== undefined ? Date.parse(q.since) : Math.max(defaultSince, untilMs - MAX_WINDOW_DAYS * DAY_MS);
  if (!(sinceMs < untilMs)) throw badRequest("since must be before until", "invalid_window", "since");
  if (untilMs - sinceMs > MAX_WINDOW_DAYS * DAY_MS)
    throw badRequest(`the window from since to until may cover at most ${MAX_WINDOW_DAYS} days`, "window_too_long", "since");
  const bucketSeconds = q.bucketSeconds ?? chooseBucketSeconds(untilMs - sinceMs);
  if (bucketCount(sinceMs, untilMs, bucketSeconds) > MAX_BUCKETS)
    throw badRequest(
      `bucketSeconds ${bucketSeconds} cuts the window into more than ${MAX_BUCKETS} buckets; choose a larger one`,
      "too_many_buckets",
      "bucketSeconds",
    );
  const since = new Date(sinceMs).toISOString();
  const until = new Date(untilMs).toISOString();
  const rows = await liveRows(d, { agentId: agent.id, since, until, bucketSeconds, canaryId: q.canary ?? null });
  const arm = (v: number | null): "candidate" | "active" | null =>
    !canary ? null : v === canary.version ? "candidate" : v === canary.baseVersion ? "active" : null;
  return {
    agentId: agent.id,
    since,
    until,
    bucketSeconds,
    canaryId: q.canary ?? null,
    versions: liveByVersion(rows, sinceMs, untilMs, bucketSeconds).map((v) => ({
      ...v,
      label: v.version === null ? "none" : `v${v.version}`,
      arm: arm(v.version),
    })),
    canary,
    verdict: canary?.status === "running" ? await canaryVerdict(d, canary) : null,
  };
}
