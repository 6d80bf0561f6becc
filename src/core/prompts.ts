import { formatStats, ZERO_STATS } from "./credit";
import { renderLibrary, type Experience } from "./library";

/**
 * Prompts of the learning stages, written for this project. Each stage's user message opens with a
 * fixed heading so that logs, tests and the simulated model can tell the stages apart; the heading is
 * ordinary text to a real model. Formats asked for here are parsed by `parse.ts`.
 */
export const STAGE_HEADINGS = {
  summary: "### TASK: SUMMARISE ATTEMPT",
  advantage: "### TASK: GROUP ADVANTAGE",
  groupUpdate: "### TASK: GROUP UPDATE",
  batchUpdate: "### TASK: BATCH UPDATE",
  consolidate: "### TASK: CONSOLIDATE LIBRARY",
  judge: "### TASK: GRADE RESPONSE",
  direct: "### TASK: WRITE EXPERIENCES DIRECTLY",
  replayCritique: "### TASK: COMPARE ATTEMPTS",
  pairJudge: "### TASK: COMPARE TWO RESPONSES",
} as const;

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

export const REVIEWER_SYSTEM =
  "You are a meticulous reviewer who improves an AI assistant by distilling short, reusable lessons from its past attempts. Follow the requested output format exactly.";

function libraryBlock(items: readonly Experience[]): string {
  return items.length === 0 ? "(the library is empty)" : renderLibrary(items);
}

export function objectiveBlock(objective: string): string {
  return objective.trim() === "" ? "Solve the task correctly." : objective.trim();
}

/**
 * `answer` and `reward` are null in no-ground-truth mode (docs/learning.md, "What the prompts see"):
 * the reviewer then judges the attempt by its own soundness, never against a reference.
 */
export type SummaryInput = {
  objective: string;
  question: string;
  answer: string | null;
  response: string;
  reward: number | null;
  critique?: string | null;
  library: readonly Experience[];
};

function groundTruthBlock(answer: string | null, reward: number | null, critique?: string | null): string {
  if (answer === null || reward === null) return "No reference answer is available: judge the attempt by the soundness of its steps.";
  return `Reference answer: ${answer}\nReward of this attempt: ${reward}${critique ? `\nGrader's critique: ${critique}` : ""}`;
}

/** Stage 4: one call per rollout of a kept group. */
export function summaryPrompt(input: SummaryInput): ChatMessage[] {
  const where =
    input.answer === null
      ? "the step where it went wrong (if it did), judged by the soundness of its reasoning and tool use"
      : "the step where it went wrong (if it did) compared with the reference answer";
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.summary}
Objective of the assistant: ${objectiveBlock(input.objective)}

Problem:
${input.question}

${groundTruthBlock(input.answer, input.reward, input.critique)}

Experiences the assistant had available:
${libraryBlock(input.library)}

The attempt:
<attempt>
${input.response}
</attempt>

Summarise the attempt step by step: the method it used, ${where}, and which of the listed experiences it applied or ignored (by id).
Reply with the summary inside <summary></summary> tags.`,
    },
  ];
}

export type AdvantageInput = {
  objective: string;
  question: string;
  /** Null in no-ground-truth mode, as are the attempts' rewards. */
  answer: string | null;
  attempts: readonly { summary: string; reward: number | null }[];
  maxExperiences: number;
  maxWords: number;
  library: readonly Experience[];
};

/** Stage 5: the semantic advantage of one group, as at most N experiences. */
export function advantagePrompt(input: AdvantageInput): ChatMessage[] {
  const blind = input.answer === null;
  const attempts = input.attempts
    .map((a, i) => `<attempt index="${i + 1}"${blind || a.reward === null ? "" : ` reward="${a.reward}"`}>\n${a.summary}\n</attempt>`)
    .join("\n");
  const reference = blind ? "No reference answer is available." : `Reference answer: ${input.answer}`;
  const compare = blind
    ? "No rewards are given: judge the attempts against each other — which final answers agree, and which steps and tool uses are sound — and say why the sounder attempts are better and where the others went wrong."
    : "Compare the better attempts with the worse ones: say why the better ones succeeded and the worse ones failed.";
  const credit =
    input.library.length === 0
      ? ""
      : `
Then credit the library: for each attempt, list the experiences (by id) it followed and whether each helped or hurt it, or "none".
<credit>
<rollout index="1">E1 helped, E2 hurt</rollout>
</credit>`;
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.advantage}
Objective of the assistant: ${objectiveBlock(input.objective)}

Problem:
${input.question}

${reference}

Summaries of ${input.attempts.length} attempts at this problem${blind ? "" : ", with their rewards"}:
${attempts}

Current experience library:
${libraryBlock(input.library)}

${compare} Then write at most ${input.maxExperiences} experience(s) that would help on other problems, not just this one. Each has a short name and one sentence of at most ${input.maxWords} words that names a concrete situation and a concrete action, as "When <situation>, <action>."; generic caution ("be careful", "double-check") is refused. Do not restate the problem's numbers.
Reply in this format:
<analysis>your comparison</analysis>
<experiences>
<experience name="Short name">One sentence.</experience>
</experiences>${credit}`,
    },
  ];
}

export const OPERATIONS_FORMAT = `Reply with JSON only, in this shape:
{"operations": [
  {"op": "ADD", "name": "Short name", "text": "One sentence."},
  {"op": "UPDATE", "id": "E3", "name": "Short name", "text": "The refined, more general sentence."},
  {"op": "DELETE", "id": "E2", "reason": "why it is wrong, outdated or harmful"},
  {"op": "NONE", "reason": "why nothing changes"}
]}`;

export type GroupUpdateInput = {
  objective: string;
  experiences: readonly { name: string; text: string }[];
  library: readonly Experience[];
  maxWords: number;
};

/** Stage 6: one call per kept group, always against the pre-batch library. */
export function groupUpdatePrompt(input: GroupUpdateInput): ChatMessage[] {
  const proposed = input.experiences.map((e, i) => `${i + 1}. ${e.name}: ${e.text}`).join("\n");
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.groupUpdate}
Objective of the assistant: ${objectiveBlock(input.objective)}

Current experience library:
${libraryBlock(input.library)}

New experiences:
${proposed}

For each new experience choose one operation on the library: ADD it when it is new; UPDATE an existing item (by id) when the new experience refines it into a more general principle; DELETE an existing item it shows to be wrong, outdated or harmful; NONE when the library already covers it. Every text is one sentence of at most ${input.maxWords} words naming a concrete situation and a concrete action; vague items (generic caution, no action) are refused.
${OPERATIONS_FORMAT}`,
    },
  ];
}

export type BatchUpdateInput = {
  objective: string;
  /** `group` null: a DELETE proposed by the items' credit record rather than by a group's reviewer. */
  proposals: readonly { group: number | null; op: string; id?: string; name?: string; text?: string; reason?: string }[];
  library: readonly Experience[];
  maxExperiences: number;
  maxWords: number;
};

/** Stage 7: one call per batch that consolidates every group's proposals into a net plan. */
export function batchUpdatePrompt(input: BatchUpdateInput): ChatMessage[] {
  const proposals = input.proposals
    .map(
      (p, i) =>
        `${i + 1}. (${p.group === null ? "credit record" : `group ${p.group}`}) ${JSON.stringify({ op: p.op, id: p.id, name: p.name, text: p.text, reason: p.reason })}`,
    )
    .join("\n");
  const record = input.library.filter((item) => item.stats).map((item) => `[${item.id}] ${formatStats(item.stats ?? ZERO_STATS)}`);
  const stats = record.length === 0 ? "" : `\n\nCredit record of the library items (from the reviewers' critiques):\n${record.join("\n")}`;
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.batchUpdate}
Objective of the assistant: ${objectiveBlock(input.objective)}

Current experience library:
${libraryBlock(input.library)}${stats}

Operations proposed by reviewers of different problems (and DELETEs proposed from the credit record):
${proposals}

Merge them into one net plan for the library: several UPDATEs of one item become a single UPDATE stating the common principle; a DELETE wins over an UPDATE of the same item (keep the DELETEs of items that hurt more than they helped or were never cited); similar ADDs become one ADD; drop NONE. The library may hold at most ${input.maxExperiences} items after the plan; every text is one sentence of at most ${input.maxWords} words.
${OPERATIONS_FORMAT}`,
    },
  ];
}

export type ConsolidateInput = {
  objective: string;
  library: readonly Experience[];
  maxExperiences: number;
  maxWords: number;
};

/** Enforces the caps by asking for merges and rewrites, never by truncation. */
export function consolidatePrompt(input: ConsolidateInput): ChatMessage[] {
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.consolidate}
Objective of the assistant: ${objectiveBlock(input.objective)}

Current experience library (${input.library.length} items):
${libraryBlock(input.library)}

The library must hold at most ${input.maxExperiences} items, each one sentence of at most ${input.maxWords} words. Merge overlapping items (UPDATE one into the common principle and DELETE the others), shorten long ones with UPDATE, and DELETE vague or least useful items. Keep every distinct, useful lesson.
${OPERATIONS_FORMAT}`,
    },
  ];
}

export type DirectInput = {
  objective: string;
  samples: readonly { question: string; answer: string }[];
  maxExperiences: number;
  maxWords: number;
};

/**
 * The "without groups" baseline of the paper's ablation (`npm run bench:ablation`): one call writes
 * experiences from the training questions and answers alone, with no rollout to compare.
 */
export function directPrompt(input: DirectInput): ChatMessage[] {
  const problems = input.samples.map((s, i) => `<problem index="${i + 1}">\n${s.question}\nAnswer: ${s.answer}\n</problem>`).join("\n");
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.direct}
Objective of the assistant: ${objectiveBlock(input.objective)}

Training problems with their answers:
${problems}

Write at most ${input.maxExperiences} experience(s) that would help an assistant solve problems like these. Each has a short name and one sentence of at most ${input.maxWords} words that names a concrete situation and a concrete action, as "When <situation>, <action>.".
Reply in this format:
<experiences>
<experience name="Short name">One sentence.</experience>
</experiences>`,
    },
  ];
}
