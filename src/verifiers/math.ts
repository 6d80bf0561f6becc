// The `math` verifier: extract the final answer from a response and compare it with the reference.
import { extractCandidates, type Candidate } from "./math/extract";
import { nodesEqual } from "./math/equivalent";
import { parseAnswer, type Node } from "./math/parse";
import type { VerifyResult } from "./result";

interface Parsed {
  text: string;
  node: Node | null;
}

/** Normalised text used when neither side parses (or as a last resort): `\text{odd}` ≡ `odd`. */
function plainForm(s: string): string {
  return s
    .replace(/\\(text|textbf|textit|textrm|textnormal|mbox|mathrm|mathbf)\s*\{([^{}]*)\}/g, "$2")
    .replace(/\\(left|right)(?![a-zA-Z])/g, "")
    .replace(/\\boxed\s*\{([^{}]*)\}/g, "$1")
    .replace(/[\s$]|\\[,;!: ]/g, "")
    .replace(/^[.,;:]+|[.,;:]+$/g, "");
}

function parsed(c: Candidate): Parsed {
  return { text: c.text, node: parseAnswer(c.text) };
}

const readable = (s: string) => parseAnswer(s) !== null || plainForm(s).length > 0;

/** Candidates Math-Verify style: one per source (boxed, final-answer phrase, maths env, whole string, number). */
export function answerCandidates(text: string): Parsed[] {
  return extractCandidates(text, readable).map(parsed);
}

function pairEqual(g: Parsed, p: Parsed): boolean {
  if (g.node && p.node && nodesEqual(g.node, p.node)) return true;
  const a = plainForm(g.text),
    b = plainForm(p.text);
  return a.length > 0 && a === b;
}

/**
 * Math-Verify-like equivalence of two answer texts (each may be a bare answer, `$…$`, `\boxed{}` or a whole solution).
 * Like Math-Verify's default "any match", true when any gold candidate equals any prediction candidate.
 */
export function mathEquivalent(gold: string, prediction: string): boolean {
  if (typeof gold !== "string" || typeof prediction !== "string") return false;
  const gs = answerCandidates(gold);
  const ps = answerCandidates(prediction);
  return gs.some((g) => ps.some((p) => pairEqual(g, p)));
}

/**
 * Scores a model response against a reference answer. The response's answer is taken strictly in priority
 * order (last \boxed{}, else a final-answer phrase, else the last maths environment, else the last number), so a
 * response cannot hedge with several answers in different places.
 */
export function verifyMath(response: unknown, answer: unknown): VerifyResult {
  if (typeof response !== "string" || response.trim() === "")
    return { reward: 0, critique: "Empty or non-text response.", extracted: null };
  if (typeof answer !== "string" && typeof answer !== "number")
    return { reward: 0, critique: "Reference answer is missing.", extracted: null };
  const ref = String(answer);
  const gold = answerCandidates(ref.includes("$") || ref.includes("\\boxed") ? ref : `\\boxed{${ref}}`);
  const [first] = extractCandidates(response, readable);
  if (!first) return { reward: 0, critique: "No final answer found (expected \\boxed{...}).", extracted: null };
  const pred = parsed(first);
  const ok = gold.some((g) => pairEqual(g, pred));
  return ok
    ? { reward: 1, extracted: first.text }
    : { reward: 0, critique: `Final answer ${first.text} does not match the reference ${ref}.`, extracted: first.text };
}
