import { z } from "zod";
import { extractJson } from "./parse";
import { type ChatMessage, objectiveBlock, REVIEWER_SYSTEM, STAGE_HEADINGS } from "./prompts";
import { err, ok, type Result } from "./result";

/**
 * The two ways a replay judges answers without a label (docs/ownership.md, "Replay gate"): the
 * group-relative critique sees all 2G answers to one captured request at once and scores each against
 * the others; the pairwise judge sees one answer under each library and names the better. Neither is
 * told which library produced which answer.
 */

/** Characters of the captured conversation shown to a judge (its end, where the question is). */
export const MAX_CONVERSATION_CHARS = 20_000;

function conversationBlock(conversation: readonly ChatMessage[]): string {
  const text = conversation.map((m) => `[${m.role}] ${m.content}`).join("\n");
  return text.length <= MAX_CONVERSATION_CHARS ? text : `[… earlier messages left out …]\n${text.slice(-MAX_CONVERSATION_CHARS)}`;
}

/** What both judges are shown first: the assistant's objective and the request as the user sent it. */
function requestSection(objective: string, conversation: readonly ChatMessage[]): string {
  return `Objective of the assistant: ${objectiveBlock(objective)}

The request, as the user sent it:
<conversation>
${conversationBlock(conversation)}
</conversation>`;
}

export type CritiqueInput = { objective: string; conversation: readonly ChatMessage[]; attempts: readonly string[] };

/** One call per capture: score each of the attempts (shown in a seeded order) against the others. */
export function replayCritiquePrompt(input: CritiqueInput): ChatMessage[] {
  const attempts = input.attempts.map((a, i) => `<attempt index="${i + 1}">\n${a}\n</attempt>`).join("\n");
  return [
    { role: "system", content: REVIEWER_SYSTEM },
    {
      role: "user",
      content: `${STAGE_HEADINGS.replayCritique}
${requestSection(input.objective, input.conversation)}

No reference answer is available. Here are ${input.attempts.length} attempts at answering it, in no particular order:
${attempts}

Judge the attempts against each other: which final answers agree, which steps are sound, which do what was asked. Score each from 0 (wrong or unhelpful) to 1 (correct and complete); attempts of equal quality get equal scores.
Reply with JSON only, one entry per attempt:
{"scores": [{"attempt": 1, "score": 0.5, "critique": "one sentence"}]}`,
    },
  ];
}

/** "0.8", "80%", "4/5" → number; anything else → NaN (refused). */
function toScore(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return Number.NaN;
  const t = v.trim();
  const frac = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(t);
  if (frac) return Number(frac[1]) / Number(frac[2]);
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) return Number(pct[1]) / 100;
  return t === "" ? Number.NaN : Number(t);
}

const scoreSchema = z.preprocess(toScore, z.number().min(0).max(1));
const critiqueReplySchema = z.object({
  scores: z.array(z.object({ attempt: z.coerce.number().int(), score: scoreSchema, critique: z.string().optional() })),
});

/** The score of each attempt, by shown position (1..count); refused unless every attempt is scored exactly once. */
export function parseCritiqueScores(text: string, count: number): Result<number[]> {
  const json = extractJson(text);
  if (!json.ok) return json;
  const parsed = critiqueReplySchema.safeParse(Array.isArray(json.value) ? { scores: json.value } : json.value);
  if (!parsed.success) return err(`critique reply does not match {scores: [{attempt, score}]}: ${parsed.error.issues[0]?.message ?? ""}`);
  const scores = new Array<number | undefined>(count).fill(undefined);
  for (const s of parsed.data.scores) {
    if (s.attempt < 1 || s.attempt > count) return err(`attempt ${s.attempt} does not exist (there are ${count})`);
    if (scores[s.attempt - 1] !== undefined) return err(`attempt ${s.attempt} is scored twice`);
    scores[s.attempt - 1] = s.score;
  }
  const missing = scores.indexOf(undefined);
  if (missing !== -1) return err(`attempt ${missing + 1} has no score`);
  return ok(scores as number[]);
}

export type PairInput = { objective: string; conversation: readonly ChatMessage[]; a: string; b: string };

/** One call per pair of answers (rollout j under each library), shown as A and B in a seeded order. */
export function pairJudgePrompt(input: PairInput): ChatMessage[] {
  return [
    {
      role: "system",
      content: "You are a strict, fair judge of two answers to the same request. Follow the requested output format exactly.",
    },
    {
      role: "user",
      content: `${STAGE_HEADINGS.pairJudge}
${requestSection(input.objective, input.conversation)}

No reference answer is available. Which response answers the request better: sounder steps, a correct final answer, doing what was asked? Length and style alone do not make an answer better.
<response label="A">
${input.a}
</response>
<response label="B">
${input.b}
</response>
Reply with JSON only: {"winner": "A" or "B" or "tie", "critique": "one or two sentences"}`,
    },
  ];
}

const pairReplySchema = z.object({
  winner: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().replace(/^response\s+/i, "") : v),
    z.enum(["A", "B", "tie", "a", "b", "Tie", "TIE"]),
  ),
  critique: z.string().optional(),
});

export function parsePairVerdict(text: string): Result<"A" | "B" | "tie"> {
  const json = extractJson(text);
  if (!json.ok) return json;
  const parsed = pairReplySchema.safeParse(json.value);
  if (!parsed.success) return err(`judge reply does not match {winner: "A" | "B" | "tie"}: ${parsed.error.issues[0]?.message ?? ""}`);
  const w = parsed.data.winner.toUpperCase();
  return ok(w === "A" ? "A" : w === "B" ? "B" : "tie");
}
