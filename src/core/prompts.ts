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
} as const;

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

const REVIEWER_SYSTEM =
  "You are a meticulous reviewer who improves an AI assistant by distilling short, reusable lessons from its past attempts. Follow the requested output format exactly.";

function libraryBlock(items: readonly Experience[]): string {
  return items.length === 0 ? "(the library is empty)" : renderLibrary(items);
}

function objectiveBlock(objective: string): string {
  return objective.trim() === "" ? "Solve the task correctly." : objective.trim();
}

export type SummaryInput = {
  objective: string;
  question: string;
  answer: string;
  response: string;
  reward: number;
  critique?: string | null;
  library: readonly Experience[];
};

/** Stage 4: one call per rollout of a kept group. */
export function summaryPrompt(input: SummaryInput): ChatMessage[] {
  const critique = input.critique ? `\nGrader's critique: ${input.critique}` : "";
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.summary}
Objective of the assistant: ${objectiveBlock(input.objective)}

Problem:
${input.question}

Reference answer: ${input.answer}
Reward of this attempt: ${input.reward}${critique}

Experiences the assistant had available:
${libraryBlock(input.library)}

The attempt:
<attempt>
${input.response}
</attempt>

Summarise the attempt step by step: the method it used, the step where it went wrong (if it did) compared with the reference answer, and which of the listed experiences it applied or ignored (by id).
Reply with the summary inside <summary></summary> tags.`,
    },
  ];
}

export type AdvantageInput = {
  objective: string;
  question: string;
  answer: string;
  attempts: readonly { summary: string; reward: number }[];
  maxExperiences: number;
  maxWords: number;
  library: readonly Experience[];
};

/** Stage 5: the semantic advantage of one group, as at most N experiences. */
export function advantagePrompt(input: AdvantageInput): ChatMessage[] {
  const attempts = input.attempts.map((a, i) => `<attempt index="${i + 1}" reward="${a.reward}">\n${a.summary}\n</attempt>`).join("\n");
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.advantage}
Objective of the assistant: ${objectiveBlock(input.objective)}

Problem:
${input.question}

Reference answer: ${input.answer}

Summaries of ${input.attempts.length} attempts at this problem, with their rewards:
${attempts}

Current experience library:
${libraryBlock(input.library)}

Compare the better attempts with the worse ones: say why the better ones succeeded and the worse ones failed. Then write at most ${input.maxExperiences} experience(s) that would help on other problems, not just this one. Each has a short name and one sentence of at most ${input.maxWords} words; state conditional advice as "When …, …". Do not restate the problem's numbers.
Reply in this format:
<analysis>your comparison</analysis>
<experiences>
<experience name="Short name">One sentence.</experience>
</experiences>`,
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

For each new experience choose one operation on the library: ADD it when it is new; UPDATE an existing item (by id) when the new experience refines it into a more general principle; DELETE an existing item it shows to be wrong, outdated or harmful; NONE when the library already covers it. Every text is one sentence of at most ${input.maxWords} words.
${OPERATIONS_FORMAT}`,
    },
  ];
}

export type BatchUpdateInput = {
  objective: string;
  proposals: readonly { group: number; op: string; id?: string; name?: string; text?: string; reason?: string }[];
  library: readonly Experience[];
  maxExperiences: number;
  maxWords: number;
};

/** Stage 7: one call per batch that consolidates every group's proposals into a net plan. */
export function batchUpdatePrompt(input: BatchUpdateInput): ChatMessage[] {
  const proposals = input.proposals
    .map((p, i) => `${i + 1}. (group ${p.group}) ${JSON.stringify({ op: p.op, id: p.id, name: p.name, text: p.text, reason: p.reason })}`)
    .join("\n");
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.batchUpdate}
Objective of the assistant: ${objectiveBlock(input.objective)}

Current experience library:
${libraryBlock(input.library)}

Operations proposed by reviewers of different problems:
${proposals}

Merge them into one net plan for the library: several UPDATEs of one item become a single UPDATE stating the common principle; a DELETE wins over an UPDATE of the same item; similar ADDs become one ADD; drop NONE. The library may hold at most ${input.maxExperiences} items after the plan; every text is one sentence of at most ${input.maxWords} words.
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
