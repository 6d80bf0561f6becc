/**
 * Tool-use pitfalls of the simulated model (sim-tools-* problems): not calling the code tool at all,
 * off-by-one loop bounds, forgetting BigInt, not printing the result. Same shape as the arithmetic
 * pitfalls, so the reflection stages read and teach them the same way.
 */
export const TOOL_PITFALL_IDS = ["use_code_tool", "inclusive_loop", "bigint_exact", "print_result"] as const;
export type ToolPitfallId = (typeof TOOL_PITFALL_IDS)[number];

type Wording = { name: string; text: string };
/** The shape of `Pitfall` in pitfalls.ts (which lists these after its own; this file cannot import it back). */
type ToolPitfall = {
  id: ToolPitfallId;
  label: string;
  stepLabel: string;
  rightMethod: string;
  wrongMethod: string;
  rightSummary: string;
  wrongSummary: string;
  baseError: number;
  experience: Wording;
  paraphrases: readonly Wording[];
  topicOnly: Wording;
};

export const TOOL_PITFALLS: readonly ToolPitfall[] = [
  {
    id: "use_code_tool",
    label: "tool use",
    stepLabel: "choose method",
    rightMethod: "running the computation with execute_code",
    wrongMethod: "estimating the result in my head",
    rightSummary: "ran the computation with the execute_code tool",
    wrongSummary: "estimated in its head instead of running code, so the exact value was missed",
    baseError: 0.3,
    experience: {
      name: "Compute with code",
      text: "When a problem needs exact arithmetic over many terms or large numbers, run it with execute_code instead of estimating mentally.",
    },
    paraphrases: [
      {
        name: "Use the code tool",
        text: "Call the execute_code tool to compute long sums, counts and big powers rather than working them out by hand.",
      },
      {
        name: "Run a program",
        text: "For exact big-number or enumeration questions, write and run a program with the code tool before answering.",
      },
    ],
    topicOnly: { name: "Tools", text: "Tools can be useful." },
  },
  {
    id: "inclusive_loop",
    label: "loop bounds",
    stepLabel: "loop bounds",
    rightMethod: "looping with i <= last so the last value is included",
    wrongMethod: "looping with i < last, which stops before the last value",
    rightSummary: "looped up to and including the last value (i <= last)",
    wrongSummary: "looped with i < last and left out the last value (off by one)",
    baseError: 0.25,
    experience: {
      name: "Inclusive loop bounds",
      text: "When a loop in code covers an inclusive range, use i <= last so the final value is included.",
    },
    paraphrases: [
      { name: "Loop to the end", text: "Write range loops as for (let i = first; i <= last; i++) so the last number is not skipped." },
      { name: "Off-by-one loops", text: "In code over a closed range, the loop condition must be <= the upper end, not <." },
    ],
    topicOnly: { name: "Loops", text: "Be careful with loops." },
  },
  {
    id: "bigint_exact",
    label: "exact big integers",
    stepLabel: "exact integers",
    rightMethod: "using BigInt so the arithmetic stays exact",
    wrongMethod: "using ordinary numbers, which round above 2^53",
    rightSummary: "used BigInt, so every digit of the large result was exact",
    wrongSummary: "used ordinary floating-point numbers, so the large result was rounded",
    baseError: 0.25,
    experience: {
      name: "BigInt for big results",
      text: "When a computed integer may exceed 2^53, use BigInt in the code (write 10n, BigInt(i)) so every digit stays exact.",
    },
    paraphrases: [
      { name: "Exact big integers", text: "Use BigInt arithmetic in code for products and powers that grow past 9007199254740991." },
      { name: "Avoid float rounding", text: "Large integer results need BigInt values in JavaScript; plain numbers lose digits." },
    ],
    topicOnly: { name: "Big numbers", text: "Large numbers can be tricky." },
  },
  {
    id: "print_result",
    label: "printing the result",
    stepLabel: "report result",
    rightMethod: "printing the final value with console.log",
    wrongMethod: "storing the final value without printing it",
    rightSummary: "printed the final value, so the tool returned it",
    wrongSummary: "never printed the final value, so the tool returned nothing and it had to guess",
    baseError: 0.25,
    experience: {
      name: "Print the answer",
      text: "When running code, print the final value with console.log; the tool returns only what the code prints.",
    },
    paraphrases: [
      { name: "Output the result", text: "End every program with console.log of the answer, otherwise the tool shows nothing." },
      { name: "Show the value", text: "Make the code print its result explicitly, since an unprinted variable is not returned." },
    ],
    topicOnly: { name: "Output", text: "Mind the output." },
  },
];

/** Matchers of experienceMatch.ts for the tool pitfalls: a specific technique, with topic or action. */
export const TOOL_MATCHERS: Record<
  ToolPitfallId,
  { topic: RegExp; action: RegExp; techniques: readonly { re: RegExp; needsTopic?: boolean; standalone?: boolean }[] }
> = {
  use_code_tool: {
    topic: /\b(tools?|exact arithmetic|long sums?|enumerat\w*|computations?)\b/,
    action: /\b(run|use|call|write|compute|execute)\b/,
    techniques: [
      { re: /\bexecute_code\b/ },
      { re: /\b(code|program|script) tool\b/ },
      { re: /\b(run|write and run|execute)\b[^.]*\b(a program|code|a script)\b/, needsTopic: true },
    ],
  },
  inclusive_loop: {
    topic: /\b(loops?|ranges?|inclusive|closed|upper end|last)\b/,
    action: /\b(use|write|loop|include\w*|make)\b/,
    techniques: [
      { re: /(<=|≤)\s*(last|end|the (upper|last)|b|n|max|upper)/ },
      { re: /\bloop\w*\b[^.]*\b(include\w*|not skip\w*|up to and including)\b[^.]*\b(last|final|end)\b/ },
    ],
  },
  bigint_exact: {
    topic: /\b(big|large|2\^53|exact|digits?|products?|powers?|9007199254740991)\b/,
    action: /\b(use|write|keep|need)\b/,
    techniques: [{ re: /\bbigint\b/ }],
  },
  print_result: {
    topic: /\b(code|program|execute_code|tool|output)\b/,
    action: /\b(print\w*|log|output|show|end)\b/,
    techniques: [{ re: /\bconsole\.log\b/ }, { re: /\bprint\w*\b[^.]*\b(value|result|answer)\b/, needsTopic: true }],
  },
};
