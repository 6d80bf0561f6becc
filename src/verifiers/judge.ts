// The pure half of the LLM-judge verifier: the grading prompt and a tolerant parser for the grader's reply.
import { z } from "zod";

export interface JudgeInput {
  question: string;
  reference: string;
  response: string;
  objective?: string;
}
export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

export const JUDGE_HEADING = "### TASK: GRADE RESPONSE";

export function buildJudgePrompt(input: JudgeInput): ChatMessage[] {
  const objective = input.objective?.trim();
  const system = [
    JUDGE_HEADING,
    "You are a strict, fair grader. Compare the RESPONSE with the REFERENCE answer for the QUESTION.",
    objective
      ? `Grading objective: ${objective}`
      : "Judge correctness and completeness against the reference; ignore style unless it changes the meaning.",
    "Give a score from 0 (wrong) to 1 (fully correct); use values in between only for partial credit.",
    'Return ONLY a JSON object, no prose and no code fence: {"score": <number 0..1>, "critique": "<one or two sentences>"}',
  ].join("\n");
  const user = ["QUESTION:", input.question, "", "REFERENCE:", input.reference, "", "RESPONSE:", input.response].join("\n");
  return [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
}

/** "0.8", "80%", "4/5", "1/1" → number; anything else → NaN (rejected by the schema). */
function toScore(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return NaN;
  const t = v.trim();
  const frac = /^(-?\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(t);
  if (frac) return Number(frac[1]) / Number(frac[2]);
  const pct = /^(-?\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) return Number(pct[1]) / 100;
  return t === "" ? NaN : Number(t);
}

const replySchema = z.object({
  score: z.preprocess(toScore, z.number().finite()).transform((s) => Math.min(1, Math.max(0, s))),
  critique: z.string().optional().default(""),
});

/** Every balanced {...} substring, longest-first per start, so prose and code fences around the JSON are ignored. */
function jsonObjects(text: string): string[] {
  const out: string[] = [];
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    let depth = 0;
    let inStr = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inStr) {
        if (c === "\\") i++;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) {
        out.push(text.slice(start, i + 1));
        break;
      }
    }
  }
  return out;
}

export function parseJudgeReply(text: unknown): { reward: number; critique: string } | { error: string } {
  if (typeof text !== "string" || text.trim() === "") return { error: "Empty judge reply." };
  let lastError = "No JSON object in judge reply.";
  for (const candidate of jsonObjects(text)) {
    let data: unknown;
    try {
      data = JSON.parse(candidate);
    } catch {
      lastError = "Judge reply is not valid JSON.";
      continue;
    }
    const parsed = replySchema.safeParse(data);
    if (parsed.success) return { reward: parsed.data.score, critique: parsed.data.critique.trim() };
    lastError = `Judge reply does not match {score, critique}: ${parsed.error.issues.map((i) => i.message).join("; ")}`;
  }
  return { error: lastError };
}
