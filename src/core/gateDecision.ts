/**
 * The gated-promotion rule, pure: given the Mean@k of a candidate and of the active version on the
 * same questions and their paired interval, promote or refuse, with the reason in words.
 */
export type GateRule = { margin: number; requireSignificant: boolean };

export type GateFigures = {
  candidateVersion: number;
  activeVersion: number;
  candidateMeanAtK: number;
  activeMeanAtK: number;
  /** candidate − active. */
  diff: number;
  ci: { low: number; high: number };
  questions: number;
  k: number;
  margin: number;
};

export type GateDecision = { promote: boolean; reason: string };

const pct = (x: number) => `${(x * 100).toFixed(1)}`;

/**
 * Promote only when the candidate strictly beats the active version by at least `margin` (absolute
 * Mean@k), and, if asked, when the paired interval of the difference lies wholly above zero. A tie is
 * never a win: a library that changes nothing must not replace the one that serves.
 */
export function decideGate(
  f: Pick<GateFigures, "diff" | "ci" | "questions" | "candidateMeanAtK" | "activeMeanAtK">,
  rule: GateRule,
): GateDecision {
  const figures = `candidate ${pct(f.candidateMeanAtK)} vs active ${pct(f.activeMeanAtK)} (diff ${pct(f.diff)} points, 95% CI [${pct(f.ci.low)}, ${pct(f.ci.high)}])`;
  if (f.questions === 0) return { promote: false, reason: "no validation question was evaluated" };
  // Float noise must not turn an exact tie into a win.
  const diff = Math.round(f.diff * 1e9) / 1e9;
  if (diff <= 0) return { promote: false, reason: `not better: ${figures}` };
  if (diff < rule.margin) return { promote: false, reason: `gain below the margin of ${pct(rule.margin)} points: ${figures}` };
  if (rule.requireSignificant && !(f.ci.low > 0))
    return { promote: false, reason: `gain not significant (interval reaches zero): ${figures}` };
  return { promote: true, reason: `beats the active version by at least ${pct(rule.margin)} points: ${figures}` };
}
