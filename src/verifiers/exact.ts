// The `exact` verifier: normalised string equality.
import type { VerifyResult } from "./result";

/** Lower-cases, unwraps LaTeX text/boxed wrappers and `$`, trims quotes and surrounding punctuation, collapses spaces. */
export function normalizeText(s: string): string {
  let t = s.normalize("NFKC");
  for (let k = 0; k < 3; k++) {
    t = t.replace(/\\(boxed|text|textbf|textit|textrm|textnormal|mbox|mathrm|mathbf|emph)\s*\{([^{}]*)\}/g, "$2");
  }
  t = t.replace(/\$/g, "").toLowerCase().replace(/\s+/g, " ").trim();
  // Peel surrounding quotes/brackets-free punctuation repeatedly: `"Paris".` → `paris`.
  for (let prev = ""; prev !== t; ) {
    prev = t;
    t = t.replace(/^["'`“”‘’*_\s]+|["'`“”‘’*_\s.,;:!?]+$/g, "");
  }
  return t;
}

export function verifyExact(response: unknown, answer: unknown): VerifyResult {
  if (typeof response !== "string" || response.trim() === "")
    return { reward: 0, critique: "Empty or non-text response.", extracted: null };
  const ref = typeof answer === "number" ? String(answer) : typeof answer === "string" ? answer : null;
  if (ref === null) return { reward: 0, critique: "Reference answer is missing.", extracted: null };
  const got = normalizeText(response);
  return got === normalizeText(ref)
    ? { reward: 1, extracted: got }
    : { reward: 0, critique: `Expected "${ref}" but got "${got.slice(0, 200)}".`, extracted: got };
}
