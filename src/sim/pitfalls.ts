/**
 * The pitfalls of the simulated task family. Each has the phrases the simulated model uses to show
 * its method (so a summary can see where it went wrong), a canonical good experience and paraphrases
 * (tests build "good" libraries from them), a topic-only sentence that names it without saying what
 * to do (a "vague" experience that must not help), and a wrong rule (a "misleading" experience that
 * must hurt).
 */

import { TOOL_PITFALLS, type ToolPitfallId } from "./toolPitfalls";

export const PITFALL_IDS = [
  "inclusive_count",
  "order_of_operations",
  "percent_base",
  "unit_conversion",
  "negative_remainder",
  "fence_posts",
] as const;

export type PitfallId = (typeof PITFALL_IDS)[number] | ToolPitfallId;

export type ExperienceText = { name: string; text: string };

export type Pitfall = {
  id: PitfallId;
  /** Human label; summaries say "went wrong at the <label> pitfall". */
  label: string;
  /** Label of the reasoning step where the pitfall bites: "Step 2 (range count): …". */
  stepLabel: string;
  /** Phrase in a correct step, and in a wrong step, of the model's reasoning. */
  rightMethod: string;
  wrongMethod: string;
  /** What went right / wrong, for summaries. */
  rightSummary: string;
  wrongSummary: string;
  /** Error probability at temperature 0 without a helping experience (p = base + k·T). */
  baseError: number;
  experience: ExperienceText;
  paraphrases: readonly ExperienceText[];
  /** Names the topic only: "Be careful with inclusive counting." Must not help. */
  topicOnly: ExperienceText;
  /** States the mistake as if it were the rule. Must hurt. */
  misleading?: ExperienceText;
};

export const PITFALLS: readonly Pitfall[] = [
  {
    id: "inclusive_count",
    label: "inclusive counting",
    stepLabel: "range count",
    rightMethod: "counting both endpoints",
    wrongMethod: "taking the difference of the endpoints",
    rightSummary: "counted both endpoints (last − first + 1)",
    wrongSummary: "took last − first without adding 1, so one endpoint was dropped",
    baseError: 0.25,
    experience: {
      name: "Inclusive ranges",
      text: "When counting the integers in a closed range, include both endpoints: the count is last − first + 1.",
    },
    paraphrases: [
      { name: "Count both ends", text: "When a range is inclusive, count both ends, so add one to the difference of the endpoints." },
      { name: "Range size", text: "For numbers from a to b inclusive, use b - a + 1, not b - a." },
    ],
    topicOnly: { name: "Inclusive counting", text: "Be careful with inclusive counting." },
    misleading: { name: "Range length", text: "The number of integers in a range is the last minus the first; do not add one." },
  },
  {
    id: "order_of_operations",
    label: "order of operations",
    stepLabel: "evaluate expression",
    rightMethod: "multiplying and dividing before adding and subtracting",
    wrongMethod: "working strictly left to right",
    rightSummary: "did the multiplication and division before the addition and subtraction",
    wrongSummary: "evaluated strictly left to right, adding before multiplying",
    baseError: 0.25,
    experience: {
      name: "Operator precedence",
      text: "When evaluating an arithmetic expression, do multiplication and division before addition and subtraction, not strictly left to right.",
    },
    paraphrases: [
      { name: "Multiply first", text: "In a written expression, multiply and divide first, then add and subtract." },
      { name: "PEMDAS", text: "Apply PEMDAS precedence rather than reading the expression left to right." },
    ],
    topicOnly: { name: "Order of operations", text: "Be careful with the order of operations." },
    misleading: {
      name: "Reading order",
      text: "Evaluate arithmetic expressions strictly left to right, adding before multiplying if the addition comes first.",
    },
  },
  {
    id: "percent_base",
    label: "percentage base",
    stepLabel: "undo percentage",
    rightMethod: "dividing by the multiplier, since the percentage is of the original",
    wrongMethod: "applying the percentage to the new value",
    rightSummary: "divided the new value by (1 ± p/100) because the percentage was of the original value",
    wrongSummary: "applied the percentage to the new value instead of the original one",
    baseError: 0.25,
    experience: {
      name: "Percent of the original",
      text: "When a value after a percentage change is given, divide it by (1 ± p/100) to recover the original; the percentage is of the original, not the new value.",
    },
    paraphrases: [
      {
        name: "Reverse percentages",
        text: "To reverse a percentage increase or discount, divide the new amount by the multiplier instead of applying the percentage to it.",
      },
      {
        name: "Percentage base",
        text: "Remember the percent was taken of the original value, so work back by dividing the final value by 1 + p/100.",
      },
    ],
    topicOnly: { name: "Percentages", text: "Be careful with percentages." },
    misleading: {
      name: "Undoing a percentage",
      text: "To undo a percentage change, apply the percentage to the new value and reverse it.",
    },
  },
  {
    id: "unit_conversion",
    label: "unit conversion",
    stepLabel: "unit conversion",
    rightMethod: "converting with the exact factor",
    wrongMethod: "converting at 100 per unit",
    rightSummary: "converted with the exact factor (60 minutes per hour, 1000 metres per kilometre)",
    wrongSummary: "converted at 100 per unit instead of the exact factor",
    baseError: 0.25,
    experience: {
      name: "Exact conversion factors",
      text: "When converting units, use the exact factor: 60 minutes per hour and 1000 metres per kilometre, never 100.",
    },
    paraphrases: [
      {
        name: "Hours are not decimal",
        text: "Convert hours with 60 minutes per hour and kilometres with 1000 metres per kilometre before combining quantities.",
      },
      { name: "Conversion factor", text: "Always check the real conversion factor before converting; an hour has 60 minutes, not 100." },
    ],
    topicOnly: { name: "Units", text: "Pay attention to units." },
    misleading: { name: "Decimal units", text: "Convert units at 100 per unit: an hour is 100 minutes and a kilometre is 100 metres." },
  },
  {
    id: "negative_remainder",
    label: "negative remainder",
    stepLabel: "remainder",
    rightMethod: "adding the modulus to get a remainder between 0 and the modulus",
    wrongMethod: "keeping the negative remainder",
    rightSummary: "made the remainder non-negative by adding the modulus",
    wrongSummary: "left the remainder negative instead of adding the modulus",
    baseError: 0.25,
    experience: {
      name: "Non-negative remainders",
      text: "When taking a remainder of a negative number, add the modulus until the result lies between 0 and the modulus minus 1.",
    },
    paraphrases: [
      { name: "Remainder range", text: "A remainder must be non-negative: if it comes out negative, add the divisor." },
      {
        name: "Counting back in cycles",
        text: "When counting backwards around a cycle, shift a negative result up by the cycle length so it is non-negative.",
      },
    ],
    topicOnly: { name: "Negative numbers", text: "Be careful with remainders of negative numbers." },
    misleading: { name: "Remainder sign", text: "A remainder of a negative number stays negative; keep the sign the division gives." },
  },
  {
    id: "fence_posts",
    label: "fence posts",
    stepLabel: "count posts",
    rightMethod: "adding one post for the far end",
    wrongMethod: "counting one post per gap",
    rightSummary: "counted one more post than gaps (gaps + 1)",
    wrongSummary: "counted one post per gap and missed the post at the far end",
    baseError: 0.25,
    experience: {
      name: "Posts and gaps",
      text: "When posts stand at both ends of a line, the number of posts is the number of gaps plus 1.",
    },
    paraphrases: [
      { name: "Fence posts", text: "For objects spaced along a line with one at each end, count the intervals and add one." },
      { name: "One more post", text: "Remember there is one more post than there are spaces between posts." },
    ],
    topicOnly: { name: "Fence posts", text: "Watch out for fence-post problems." },
    misleading: { name: "Posts per gap", text: "Count one post per gap: the number of posts is the length divided by the spacing." },
  },
  ...TOOL_PITFALLS,
];

/** Generic advice that addresses no pitfall ("vague" experiences in the sense of the design). */
export const GENERIC_VAGUE: readonly ExperienceText[] = [
  { name: "Care with numbers", text: "Be careful with numbers." },
  { name: "Double-check", text: "Double-check your work." },
  { name: "Read carefully", text: "Read the problem carefully before answering." },
  { name: "Stay focused", text: "Think step by step and stay focused." },
];

export function pitfallById(id: PitfallId): Pitfall {
  const found = PITFALLS.find((p) => p.id === id);
  if (!found) throw new Error(`unknown pitfall ${id}`);
  return found;
}

/** Temperature slope of the error probability (p = base + k·T, capped); calibrated by sim:calibrate. */
export const ERROR_SLOPE = 0.32;
/** Error probability at a pitfall the prompt's experiences address. */
export const RESIDUAL_ERROR = 0.02;
/**
 * Error probability at a pitfall the prompt's experiences get wrong (they state the mistake, or negate
 * the fix): a model told the wrong rule mostly follows it. Calibrated by sim:calibrate so that a library
 * of wrong rules costs well over 10 points of accuracy on sim-test.
 */
export const MISLED_ERROR = 0.85;

/** How the prompt's experiences bear on a pitfall: `helps`, `misleads`, or nothing (`null`). */
export type Guidance = "helps" | "misleads" | null;

/** `guidance` may also be a boolean: whether an experience helps (true) or nothing bears on the pitfall (false). */
export function errorProbability(pitfall: Pick<Pitfall, "baseError">, temperature: number, guidance: Guidance | boolean): number {
  const own = Math.min(0.9, pitfall.baseError + ERROR_SLOPE * temperature);
  if (guidance === "helps" || guidance === true) return RESIDUAL_ERROR;
  if (guidance === "misleads") return Math.max(own, MISLED_ERROR);
  return own;
}
