import type { Interval } from "./evaluationFigures";
import { wilson } from "./intervals";

/**
 * Live metrics per served version, pure (docs/serving.md, "Live metrics"): the sums the usage log gives
 * per version and time bucket, turned into rates and means with 95% intervals (intervals.ts).
 */

/** Sums of one version over one bucket (or the whole window). */
export type LiveSums = {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  feedback: number;
  rewardSum: number;
  latencyP50: number | null;
  latencyP95: number | null;
};

export type LiveFigures = {
  requests: number;
  errors: number;
  errorRate: number | null;
  errorCi: Interval | null;
  promptTokens: number;
  completionTokens: number;
  latencyMs: { p50: number | null; p95: number | null };
  /** Requests with a reward from /v1/feedback. */
  feedback: number;
  feedbackRate: number | null;
  feedbackCi: Interval | null;
  meanReward: number | null;
  rewardCi: Interval | null;
};

export type VersionLive = { version: number | null; overall: LiveFigures; buckets: (LiveFigures & { start: string })[] };

export function liveFigures(s: LiveSums): LiveFigures {
  const errorRate = s.requests > 0 ? s.errors / s.requests : null;
  const feedbackRate = s.requests > 0 ? s.feedback / s.requests : null;
  const meanReward = s.feedback > 0 ? s.rewardSum / s.feedback : null;
  return {
    requests: s.requests,
    errors: s.errors,
    errorRate,
    errorCi: errorRate === null ? null : wilson(errorRate, s.requests),
    promptTokens: s.promptTokens,
    completionTokens: s.completionTokens,
    latencyMs: { p50: s.latencyP50, p95: s.latencyP95 },
    feedback: s.feedback,
    feedbackRate,
    feedbackCi: feedbackRate === null ? null : wilson(feedbackRate, s.requests),
    meanReward,
    rewardCi: meanReward === null ? null : wilson(meanReward, s.feedback),
  };
}

const EMPTY: LiveSums = {
  requests: 0,
  errors: 0,
  promptTokens: 0,
  completionTokens: 0,
  feedback: 0,
  rewardSum: 0,
  latencyP50: null,
  latencyP95: null,
};

/** Bucket sizes offered when none is asked for, in seconds. */
const BUCKET_STEPS = [60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400];
/** Buckets a window is cut into at most when the size is chosen for it. */
const TARGET_BUCKETS = 48;

/** The smallest offered bucket size that cuts the window into at most 48 buckets. */
export function chooseBucketSeconds(spanMs: number): number {
  for (const s of BUCKET_STEPS) if (spanMs / (s * 1000) <= TARGET_BUCKETS) return s;
  return BUCKET_STEPS[BUCKET_STEPS.length - 1] as number;
}

export const bucketCount = (sinceMs: number, untilMs: number, bucketSeconds: number) =>
  Math.max(1, Math.ceil((untilMs - sinceMs) / (bucketSeconds * 1000)));

/**
 * Versions, newest first (no library last), each with its whole-window figures and one entry per
 * bucket from `sinceMs`, empty buckets included so series line up on one time axis. `rows` carry a
 * bucket index, or null for the whole window.
 */
export function liveByVersion(
  rows: readonly (LiveSums & { version: number | null; bucket: number | null })[],
  sinceMs: number,
  untilMs: number,
  bucketSeconds: number,
): VersionLive[] {
  const count = bucketCount(sinceMs, untilMs, bucketSeconds);
  const versions = new Map<number | null, { overall: LiveSums; buckets: Map<number, LiveSums> }>();
  const entry = (v: number | null) => {
    let e = versions.get(v);
    if (!e) {
      e = { overall: EMPTY, buckets: new Map() };
      versions.set(v, e);
    }
    return e;
  };
  for (const row of rows) {
    const e = entry(row.version);
    if (row.bucket === null) e.overall = row;
    else if (row.bucket >= 0 && row.bucket < count) e.buckets.set(row.bucket, row);
  }
  return [...versions]
    .sort(([a], [b]) => (b ?? -1) - (a ?? -1))
    .map(([version, e]) => ({
      version,
      overall: liveFigures(e.overall),
      buckets: Array.from({ length: count }, (_, i) => ({
        start: new Date(sinceMs + i * bucketSeconds * 1000).toISOString(),
        ...liveFigures(e.buckets.get(i) ?? EMPTY),
      })),
    }));
}
