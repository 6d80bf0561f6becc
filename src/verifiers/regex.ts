// The `regex` verifier: the response must match a pattern (options.pattern, else the reference answer).
import { compileLinear, execLinear, RegexBudgetError, RegexSyntaxError, type LinearRegex } from "./linearRegex";
import type { VerifyResult } from "./result";

export interface RegexOptions {
  pattern?: string;
  flags?: string;
}

const MAX_INPUT = 100_000; // bounds the work of any pattern on a huge response, with the step budget

/**
 * Patterns come from the agent's verifier and from reference answers, which end users can choose
 * through feedback: they run on a linear-time matcher with a step budget (linearRegex.ts), never on
 * the backtracking RegExp engine, so no pattern can burn a group's CPU (docs/security.md).
 */
export function verifyRegex(response: unknown, answer: unknown, options: RegexOptions = {}): VerifyResult {
  if (typeof response !== "string" || response === "") return { reward: 0, critique: "Empty or non-text response.", extracted: null };
  const source = options.pattern ?? (typeof answer === "string" ? answer : null);
  if (!source) return { reward: 0, critique: "No pattern to match against.", extracted: null };
  let re: LinearRegex;
  try {
    // Only known flags; `g`/`y` mean nothing for a single match.
    const flags = [...new Set((options.flags ?? "").replace(/[^imsu]/g, ""))].join("");
    re = compileLinear(source, flags);
  } catch (e) {
    if (e instanceof RegexSyntaxError) return { reward: 0, critique: `Invalid pattern: ${e.message}`, extracted: null };
    throw e;
  }
  let m: { text: string } | null;
  try {
    m = execLinear(re, response.slice(0, MAX_INPUT));
  } catch (e) {
    if (e instanceof RegexBudgetError) return { reward: 0, critique: `Pattern too expensive to match: ${e.message}`, extracted: null };
    throw e;
  }
  return m ? { reward: 1, extracted: m.text } : { reward: 0, critique: `Response does not match /${source}/.`, extracted: null };
}

/** Why a pattern cannot be used by the verifier (null: it can); checked when an agent is saved. */
export function regexPatternProblem(pattern: string, flags = ""): string | null {
  try {
    compileLinear(pattern, flags);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : "invalid pattern";
  }
}
