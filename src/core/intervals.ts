import type { Interval } from "./evaluationFigures";

/**
 * Confidence intervals for live traffic, pure (docs/serving.md, "Canary"): rates (errors, feedback)
 * and mean rewards, each a share or a mean in [0, 1], and the difference of two independent arms.
 */

/** Two-sided 95%. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval of a proportion observed as `mean` over `n` trials. It is also used for the
 * mean of rewards in [0, 1] (`/v1/feedback` validates the range): such a variable's variance is at most
 * mean·(1 − mean), the binomial one, so the interval is conservative for graded rewards and exact in
 * spirit for binary ones. Unlike the normal or t interval it never collapses to a point when every
 * reward is the same (three rewards of 1 give [0.44, 1], not [1, 1]) and never leaves [0, 1].
 * n = 0: nothing is known, [0, 1].
 */
export function wilson(mean: number, n: number, z = Z95): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const p = Math.min(1, Math.max(0, mean));
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At p = 0 (p = 1) the lower (upper) bound is exactly 0 (1); computed, it can round to 1e-17 or 0.999….
  return {
    low: p === 0 ? 0 : Math.max(0, centre - half),
    high: p === 1 ? 1 : Math.min(1, centre + half),
  };
}

export type Estimate = { mean: number; n: number };

/**
 * Interval of a − b for two independent proportions (or [0, 1] means), by Newcombe's hybrid score
 * method: each arm's Wilson interval, combined. Better behaved than the Wald interval of the difference
 * at small n and near 0 or 1, which is where a canary's decisions are made. Null when an arm is empty.
 */
export function newcombeDiff(a: Estimate, b: Estimate, z = Z95): { diff: number; ci: Interval } | null {
  if (a.n <= 0 || b.n <= 0) return null;
  const wa = wilson(a.mean, a.n, z);
  const wb = wilson(b.mean, b.n, z);
  const diff = a.mean - b.mean;
  return {
    diff,
    ci: {
      low: diff - Math.sqrt((a.mean - wa.low) ** 2 + (wb.high - b.mean) ** 2),
      high: diff + Math.sqrt((wa.high - a.mean) ** 2 + (b.mean - wb.low) ** 2),
    },
  };
}
