// The `choice` verifier: multiple choice A–E.
import type { VerifyResult } from "./result";

const PATTERNS: RegExp[] = [
  /\\boxed\s*\{\s*(?:\\text\s*\{)?\s*\(?([A-E])\)?\s*\}?\s*\}/gi,
  /(?:final\s+answer|answer|correct\s+(?:option|choice|answer))\s*(?:is|:|=)?\s*(?:option\s+|choice\s+)?[*$\\([{]*\s*\(?([A-E])\)?(?![A-Za-z])/gi,
  /(?:option|choice)\s+\(?([A-E])\)?(?![A-Za-z])/gi,
  /\(([A-E])\)/g,
  /^\s*\(?([A-E])[).:]?\s*$/gim,
];

/** The chosen letter: the last match of the most explicit form present (boxed > "answer is" > "option X" > "(X)" > a lone letter). */
export function extractChoice(response: string): string | null {
  for (const re of PATTERNS) {
    // A lower-case letter only counts when nothing follows it ("the answer is b."), not "the answer is a bit…".
    const all = [...response.matchAll(re)].filter((m) => {
      const letter = m[1] ?? "";
      if (letter === letter.toUpperCase()) return true;
      const after = response.slice((m.index ?? 0) + m[0].length);
      return /^\s*($|[.)\]},;:!*$\n])/.test(after);
    });
    const last = all[all.length - 1];
    if (last?.[1]) return last[1].toUpperCase();
  }
  return null;
}

function referenceLetter(answer: unknown): string | null {
  if (typeof answer !== "string") return null;
  const t = answer.trim();
  if (/^\(?[A-Ea-e]\)?\.?$/.test(t)) return t.replace(/[().]/g, "").toUpperCase();
  return extractChoice(t);
}

export function verifyChoice(response: unknown, answer: unknown): VerifyResult {
  if (typeof response !== "string" || response.trim() === "")
    return { reward: 0, critique: "Empty or non-text response.", extracted: null };
  const ref = referenceLetter(answer);
  if (!ref) return { reward: 0, critique: "Reference answer is not a letter A–E.", extracted: null };
  const got = extractChoice(response);
  if (!got) return { reward: 0, critique: "No option letter (A–E) found in the response.", extracted: null };
  return got === ref ? { reward: 1, extracted: got } : { reward: 0, critique: `Chose ${got}, the answer is ${ref}.`, extracted: got };
}
