import { describe, expect, it } from "vitest";
import { bucketCount, chooseBucketSeconds, liveByVersion, liveFigures } from "../../../src/core/liveFigures";

const sums = (over: Partial<Parameters<typeof liveFigures>[0]> = {}) => ({
  requests: 0,
  errors: 0,
  promptTokens: 0,
  completionTokens: 0,
  feedback: 0,
  rewardSum: 0,
  latencyP50: null,
  latencyP95: null,
  ...over,
});

describe("liveFigures", () => {
  it("turns sums into rates and means with Wilson intervals", () => {
    const f = liveFigures(
      sums({
        requests: 200,
        errors: 4,
        feedback: 50,
        rewardSum: 40,
        latencyP50: 120,
        latencyP95: 480,
        promptTokens: 1000,
        completionTokens: 300,
      }),
    );
    expect(f).toMatchObject({
      requests: 200,
      errors: 4,
      errorRate: 0.02,
      feedbackRate: 0.25,
      meanReward: 0.8,
      latencyMs: { p50: 120, p95: 480 },
    });
    expect(f.errorCi!.low).toBeLessThan(0.02);
    expect(f.errorCi!.high).toBeGreaterThan(0.02);
    expect(f.rewardCi!.low).toBeCloseTo(0.6696, 3);
    expect(f.rewardCi!.high).toBeCloseTo(0.8876, 3);
  });

  it("has no rate or mean where nothing was observed", () => {
    expect(liveFigures(sums())).toMatchObject({ errorRate: null, errorCi: null, feedbackRate: null, meanReward: null, rewardCi: null });
    expect(liveFigures(sums({ requests: 3 }))).toMatchObject({ errorRate: 0, feedbackRate: 0, meanReward: null });
  });
});

describe("liveByVersion", () => {
  const since = Date.parse("2026-05-01T00:00:00.000Z");
  const until = since + 3 * 3600_000;
  it("gives every version every bucket on one time axis, newest version first, no library last", () => {
    const out = liveByVersion(
      [
        { version: 1, bucket: null, ...sums({ requests: 5 }) },
        { version: 1, bucket: 0, ...sums({ requests: 2 }) },
        { version: 1, bucket: 2, ...sums({ requests: 3 }) },
        { version: 2, bucket: null, ...sums({ requests: 1 }) },
        { version: 2, bucket: 1, ...sums({ requests: 1 }) },
        { version: null, bucket: null, ...sums({ requests: 7 }) },
        { version: null, bucket: 1, ...sums({ requests: 7 }) },
      ],
      since,
      until,
      3600,
    );
    expect(out.map((v) => v.version)).toEqual([2, 1, null]);
    expect(out.map((v) => v.overall.requests)).toEqual([1, 5, 7]);
    expect(out[1]!.buckets.map((b) => b.requests)).toEqual([2, 0, 3]);
    expect(out[0]!.buckets.map((b) => b.start)).toEqual([
      "2026-05-01T00:00:00.000Z",
      "2026-05-01T01:00:00.000Z",
      "2026-05-01T02:00:00.000Z",
    ]);
  });

  it("chooses a bucket size that cuts the window into at most 48 buckets", () => {
    expect(chooseBucketSeconds(30 * 60_000)).toBe(60);
    expect(chooseBucketSeconds(24 * 3600_000)).toBe(3600);
    expect(chooseBucketSeconds(7 * 24 * 3600_000)).toBe(6 * 3600);
    expect(bucketCount(since, until, 3600)).toBe(3);
    expect(bucketCount(since, until + 1, 3600)).toBe(4);
  });
});
