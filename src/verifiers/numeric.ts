// The `numeric` verifier: the last number in the response against a numeric reference, with tolerances.
import { plainNumbers } from "./math/extract";
import type { VerifyResult } from "./result";

export interface NumericOptions {
  absTol?: number;
  relTol?: number;
}

/** Reads "1,234.5", "1 234,5", "-3/4", "12%", "1.5e3" as numbers; percent stays as written (12% → 12). */
export function toNumber(s: string): number | null {
  const t = s
    .trim()
    .replace(/\\%|%$/g, "")
    .replace(/\\!|\s/g, "");
  const frac = /^(-?\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(t);
  if (frac) return Number(frac[1]) / Number(frac[2]);
  const n = Number(t.replace(/,(?=\d{3}(\D|$))/g, ""));
  return Number.isFinite(n) ? n : null;
}

/** Candidate number in a response: a \boxed{} value, else the last number in the text (scientific notation included). */
export function extractNumber(response: string): string | null {
  const boxed = /\\boxed\s*\{([^{}]*)\}(?![\s\S]*\\boxed)/.exec(response);
  if (boxed && toNumber(boxed[1] as string) !== null) return (boxed[1] as string).trim();
  const sci = [...response.matchAll(/(?<![\w.])-?\d+(?:\.\d+)?[eE][+-]?\d+(?![\w.])/g)].pop();
  const plain = plainNumbers(response.replace(/\\!/g, "")).pop();
  if (sci && (!plain || response.lastIndexOf(sci[0]) >= response.lastIndexOf(plain.replace(/\\%$/, "")))) return sci[0];
  return plain ?? null;
}

export function verifyNumeric(response: unknown, answer: unknown, options: NumericOptions = {}): VerifyResult {
  if (typeof response !== "string" || response.trim() === "")
    return { reward: 0, critique: "Empty or non-text response.", extracted: null };
  const ref = typeof answer === "number" ? answer : typeof answer === "string" ? toNumber(answer) : null;
  if (ref === null || !Number.isFinite(ref)) return { reward: 0, critique: "Reference answer is not a number.", extracted: null };
  const extracted = extractNumber(response);
  const got = extracted === null ? null : toNumber(extracted);
  if (got === null) return { reward: 0, critique: "No number found in the response.", extracted };
  // Defaults: exact up to floating-point noise.
  const absTol = options.absTol ?? 1e-9;
  const relTol = options.relTol ?? 1e-9;
  const ok = Math.abs(got - ref) <= Math.max(absTol, relTol * Math.abs(ref));
  return ok ? { reward: 1, extracted } : { reward: 0, critique: `Expected ${ref} but got ${got}.`, extracted };
}
