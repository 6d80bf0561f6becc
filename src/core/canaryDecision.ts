import type { CanaryRules } from "./canarySpec";
import type { Interval } from "./evaluationFigures";
import { newcombeDiff, wilson } from "./intervals";

/**
 * The canary's decision rule, pure (docs/serving.md, "Canary"). Two arms of live traffic, the candidate
 * and the active version, each summed over the requests the canary assigned; the rule says promote, roll
 * back or wait, with its figures and the reason in words.
 *
 * - Roll back at once — whatever the number of requests with feedback so far, once each arm has
 *   `minSamples` of them — when the candidate's error rate is above the active's by more than
 *   `maxErrorIncrease` with 95% confidence (the lower end of the difference's interval is above it), or
 *   its mean reward below the active's by more than `maxRewardDrop` (the upper end below −maxRewardDrop).
 * - Promote once each arm has `minRequests` requests with feedback, when the candidate is not worse than
 *   the active by more than `margin` with 95% confidence (the lower end of the reward difference's
 *   interval is at least −margin) and its error rate is not above the active's by more than
 *   `maxErrorIncrease`.
 * - Otherwise wait.
 *
 * The rule is applied each time feedback arrives, so it looks at the data many times: a one-sided 97.5%
 * bound is not a 97.5% guarantee over the canary's life. Rolling back too eagerly only keeps the old
 * version; promotion is guarded by the `minRequests` floor, the margin and the error check.
 */

/** Sums over one arm: requests assigned, errors among them, requests with a reward, and the rewards' sum. */
export type ArmCounts = { requests: number; errors: number; feedback: number; rewardSum: number };

export type ArmFigures = ArmCounts & {
  errorRate: number | null;
  errorCi: Interval | null;
  meanReward: number | null;
  rewardCi: Interval | null;
};

export type Difference = { diff: number; ci: Interval };

export type CanaryFigures = {
  canaryId: string;
  candidateVersion: number;
  /** The version the candidate is compared with; 0 = no library. */
  activeVersion: number;
  percent: number;
  candidate: ArmFigures;
  active: ArmFigures;
  /** candidate − active mean reward; null until both arms have feedback. */
  rewardDiff: Difference | null;
  /** candidate − active error rate; null until both arms have requests. */
  errorDiff: Difference | null;
  rules: CanaryRules;
};

export type CanaryVerdict = { action: "promote" | "rollback" | "wait"; reason: string; figures: CanaryFigures };

export type CanaryInput = Pick<CanaryFigures, "canaryId" | "candidateVersion" | "activeVersion" | "percent" | "rules"> & {
  candidate: ArmCounts;
  active: ArmCounts;
};

export function armFigures(c: ArmCounts): ArmFigures {
  const errorRate = c.requests > 0 ? c.errors / c.requests : null;
  const meanReward = c.feedback > 0 ? c.rewardSum / c.feedback : null;
  return {
    ...c,
    errorRate,
    errorCi: errorRate === null ? null : wilson(errorRate, c.requests),
    meanReward,
    rewardCi: meanReward === null ? null : wilson(meanReward, c.feedback),
  };
}

const pts = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}`;
const pct = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);
const ci = (i: Interval) => `[${pts(i.low)}, ${pts(i.high)}]`;
// Float noise must not decide a comparison with a threshold that the figures meet exactly.
const round = (x: number) => Math.round(x * 1e9) / 1e9;

export function decideCanary(input: CanaryInput): CanaryVerdict {
  const { rules } = input;
  const cand = armFigures(input.candidate);
  const act = armFigures(input.active);
  const errorDiff =
    cand.errorRate === null || act.errorRate === null
      ? null
      : newcombeDiff({ mean: cand.errorRate, n: cand.requests }, { mean: act.errorRate, n: act.requests });
  const rewardDiff =
    cand.meanReward === null || act.meanReward === null
      ? null
      : newcombeDiff({ mean: cand.meanReward, n: cand.feedback }, { mean: act.meanReward, n: act.feedback });
  const figures: CanaryFigures = {
    canaryId: input.canaryId,
    candidateVersion: input.candidateVersion,
    activeVersion: input.activeVersion,
    percent: input.percent,
    candidate: cand,
    active: act,
    rewardDiff,
    errorDiff,
    rules,
  };
  const verdict = (action: CanaryVerdict["action"], reason: string): CanaryVerdict => ({ action, reason, figures });
  const errors = `error rate ${pct(cand.errorRate)} (${cand.errors}/${cand.requests}) vs ${pct(act.errorRate)} (${act.errors}/${act.requests})`;
  const rewards = `mean reward ${pct(cand.meanReward)} (${cand.feedback} rated) vs ${pct(act.meanReward)} (${act.feedback} rated)`;

  if (
    errorDiff &&
    cand.requests >= rules.minSamples &&
    act.requests >= rules.minSamples &&
    round(errorDiff.ci.low) > rules.maxErrorIncrease
  ) {
    return verdict(
      "rollback",
      `errors regress: ${errors}, difference ${pts(errorDiff.diff)} points, 95% CI ${ci(errorDiff.ci)}, above the allowed +${(rules.maxErrorIncrease * 100).toFixed(1)}`,
    );
  }
  if (
    rewardDiff &&
    cand.feedback >= rules.minSamples &&
    act.feedback >= rules.minSamples &&
    round(rewardDiff.ci.high) < -rules.maxRewardDrop
  ) {
    return verdict(
      "rollback",
      `reward regresses: ${rewards}, difference ${pts(rewardDiff.diff)} points, 95% CI ${ci(rewardDiff.ci)}, below the allowed −${(rules.maxRewardDrop * 100).toFixed(1)}`,
    );
  }
  if (cand.feedback < rules.minRequests || act.feedback < rules.minRequests) {
    return verdict(
      "wait",
      `collecting feedback: candidate ${cand.feedback}/${rules.minRequests}, active ${act.feedback}/${rules.minRequests} requests with a reward`,
    );
  }
  // Both arms have feedback here, so both differences exist.
  if (!rewardDiff || !errorDiff) return verdict("wait", "no comparison yet");
  if (round(rewardDiff.ci.low) < -rules.margin) {
    return verdict(
      "wait",
      `not yet conclusive: ${rewards}, difference ${pts(rewardDiff.diff)} points, 95% CI ${ci(rewardDiff.ci)} reaches below the margin of −${(rules.margin * 100).toFixed(1)}`,
    );
  }
  if (round(errorDiff.diff) > rules.maxErrorIncrease) {
    return verdict("wait", `rewards hold but errors are higher: ${errors}`);
  }
  return verdict(
    "promote",
    `not worse than the active version: ${rewards}, difference ${pts(rewardDiff.diff)} points, 95% CI ${ci(rewardDiff.ci)} within the margin of −${(rules.margin * 100).toFixed(1)}; ${errors}`,
  );
}
