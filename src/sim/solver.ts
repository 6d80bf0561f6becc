/**
 * Rollouts: the simulated model answers its own problems step by step, erring at each pitfall with a
 * probability that rises with temperature, falls to a residual rate when an experience in the prompt
 * teaches the fix, and rises when one states the mistake. Unknown text gets a weak, plausibly formatted
 * and usually wrong answer built from the text's numbers.
 */
import { readExperiences } from "./experienceMatch";
import { errorProbability, pitfallById } from "./pitfalls";
import { rngFromKey, unitFromKey } from "./rng";
import { findProblem, fmt, type StepFn } from "./templates";

export type RolloutInput = {
  /** Text of the last user message (where the problem is). */
  lastUser: string;
  /** All system/developer/user text, where experiences may be. */
  promptText: string;
  temperature: number;
  seed: number;
  choice: number;
  /** Hash of the whole request's messages, for wording choices. */
  messagesKey: string;
};

const OPENINGS = [
  "Let me solve this step by step.",
  "I will work through this carefully.",
  "Let's break the problem into steps.",
  "Working step by step:",
] as const;

export function answerRollout(input: RolloutInput): string {
  const found = findProblem(input.lastUser);
  if (!found) return weakAnswer(input);
  // The problem's own words ("a post at each end") are not experiences: leave them out of the scan.
  const guidance = readExperiences(input.promptText.split(found.text).join("\n"));
  const prose = rngFromKey("prose", input.seed, input.messagesKey, input.temperature, input.choice);
  const lines: string[] = [prose.pick(OPENINGS)];
  let index = 0;
  const step: StepFn = (label, pitfallId, right, wrong) => {
    index += 1;
    if (!pitfallId || !wrong) {
      const w = right();
      lines.push(`Step ${index} (${label}): ${w.work}.`);
      return w.value;
    }
    const pitfall = pitfallById(pitfallId);
    const read = guidance.get(pitfallId) ?? null;
    // Error draws are keyed on the problem, not on the library: libraries are then compared on common
    // random numbers, so a helping experience can only remove errors and a misleading one only add them.
    const draw = unitFromKey("err", input.seed, found.text, input.temperature, input.choice, index);
    const errs = draw < errorProbability(pitfall, input.temperature, read?.stance ?? null);
    const w = errs ? wrong() : right();
    // The reasoning names the experience it followed: the fix when it helped, the wrong rule when it misled.
    const followed = read && (read.stance === "helps" ? !errs : errs);
    const applying = followed ? (read.id ? `, applying [${read.id}]` : ", applying the given experience") : "";
    const method = errs ? pitfall.wrongMethod : pitfall.rightMethod;
    lines.push(`Step ${index} (${label})${applying}: ${method}, ${w.work}.`);
    return w.value;
  };
  const value = found.template.solve(found.params, step);
  lines.push(`So the answer is \\boxed{${fmt(value)}}.`);
  return lines.join("\n");
}

/** A weak model's answer to text it cannot parse: combine two of its numbers. Never sees a truth. */
export function weakAnswer(input: RolloutInput): string {
  const rng = rngFromKey("weak", input.seed, input.messagesKey, input.temperature, input.choice);
  const nums = [...input.lastUser.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0])).filter((x) => Number.isFinite(x));
  const lines: string[] = [rng.pick(OPENINGS)];
  if (nums.length === 0) {
    const guess = rng.int(2, 999);
    lines.push("Step 1 (estimate): the problem gives no numbers to work with, so I estimate the quantity.");
    lines.push(`So the answer is \\boxed{${guess}}.`);
    return lines.join("\n");
  }
  const a = rng.pick(nums);
  const b = rng.pick(nums);
  lines.push(`Step 1 (identify quantities): the problem mentions ${nums.slice(0, 6).map(fmt).join(", ")}.`);
  const kind = rng.int(0, 2);
  let value: number;
  if (kind === 0) {
    value = a + b;
    lines.push(`Step 2 (combine): adding the key quantities, ${fmt(a)} + ${fmt(b)} = ${fmt(value)}.`);
  } else if (kind === 1) {
    value = a * b;
    lines.push(`Step 2 (combine): multiplying the key quantities, ${fmt(a)} × ${fmt(b)} = ${fmt(value)}.`);
  } else {
    value = Math.abs(a - b) + rng.int(1, 9);
    lines.push(`Step 2 (combine): the difference ${fmt(Math.abs(a - b))} plus a correction gives ${fmt(value)}.`);
  }
  lines.push(`So the answer is \\boxed{${fmt(value)}}.`);
  return lines.join("\n");
}

/** The last \boxed{…} of a reply, or its last number. */
export function extractFinalAnswer(text: string): string | null {
  const boxed = [...text.matchAll(/\\boxed\{([^{}]*)\}/g)];
  const last = boxed[boxed.length - 1];
  if (last?.[1] !== undefined) return last[1].trim();
  const nums = [...text.matchAll(/-?\d+(?:\.\d+)?/g)];
  return nums[nums.length - 1]?.[0] ?? null;
}

export function sameAnswer(a: string, b: string): boolean {
  const clean = (s: string): string => s.replace(/[$,\s]/g, "").replace(/^\\text\{(.*)\}$/, "$1");
  const x = clean(a);
  const y = clean(b);
  if (x === y) return true;
  const nx = Number(x);
  const ny = Number(y);
  return x !== "" && y !== "" && Number.isFinite(nx) && Number.isFinite(ny) && Math.abs(nx - ny) < 1e-6;
}
