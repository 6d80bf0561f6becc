// The `regex` verifier: the response must match a pattern (options.pattern, else the reference answer).
import type { VerifyResult } from "./result";

export interface RegexOptions { pattern?: string; flags?: string }

const MAX_INPUT = 100_000; // bounds the cost of a pathological pattern on a huge response

export function verifyRegex(response: unknown, answer: unknown, options: RegexOptions = {}): VerifyResult {
  if (typeof response !== "string" || response === "") return { reward: 0, critique: "Empty or non-text response.", extracted: null };
  const source = options.pattern ?? (typeof answer === "string" ? answer : null);
  if (!source) return { reward: 0, critique: "No pattern to match against.", extracted: null };
  let re: RegExp;
  try {
    // Only known flags, and never `g`/`y`, which would make `exec` stateful.
    const flags = [...new Set((options.flags ?? "").replace(/[^imsu]/g, ""))].join("");
    re = new RegExp(source, flags);
  } catch (e) {
    return { reward: 0, critique: `Invalid pattern: ${(e as Error).message}`, extracted: null };
  }
  const m = re.exec(response.slice(0, MAX_INPUT));
  return m ? { reward: 1, extracted: m[0] } : { reward: 0, critique: `Response does not match /${source}/.`, extracted: null };
}
