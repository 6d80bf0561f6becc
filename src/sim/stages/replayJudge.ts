/**
 * The label-free judging stages of a replay (`### TASK: COMPARE ATTEMPTS`, `### TASK: COMPARE TWO
 * RESPONSES`): like the blind summary stage, the model judges an answer by its steps, since it is given
 * no reference. An answer whose reasoning shows a wrong method at a pitfall is unsound (0), one that
 * shows only right methods is sound (1), one with no recognisable method (a weak model's guess) is in
 * between (0.5); an answer without a final answer is worth nothing.
 */
import { PITFALLS } from "../pitfalls";
import { extractFinalAnswer } from "../solver";

const STEP_LINE = /^Step \d+ \([^)]+\)(?:, applying (?:\[E\d+\]|the given experience))?: (.*)$/;

export function soundness(answer: string): { score: number; why: string } {
  if (extractFinalAnswer(answer) === null) return { score: 0, why: "it gives no final answer" };
  let right = 0;
  for (const raw of answer.split("\n")) {
    const body = STEP_LINE.exec(raw.trim())?.[1];
    if (body === undefined) continue;
    const wrong = PITFALLS.find((p) => body.startsWith(p.wrongMethod));
    if (wrong) return { score: 0, why: `it goes wrong at the ${wrong.label} step (${wrong.wrongSummary})` };
    if (PITFALLS.some((p) => body.startsWith(p.rightMethod))) right++;
  }
  return right > 0 ? { score: 1, why: "every step is sound" } : { score: 0.5, why: "it uses no recognisable method" };
}

const blocks = (prompt: string, tag: string) =>
  [...prompt.matchAll(new RegExp(`<${tag} (?:index|label)="([^"]+)">\\n?([\\s\\S]*?)\\n?</${tag}>`, "g"))].map((m) => ({
    label: m[1] ?? "",
    text: m[2] ?? "",
  }));

export function replayCritiqueReply(prompt: string): string {
  const scores = blocks(prompt, "attempt").map((a) => {
    const s = soundness(a.text);
    return { attempt: Number(a.label), score: s.score, critique: `Attempt ${a.label}: ${s.why}.` };
  });
  return JSON.stringify({ scores });
}

export function pairJudgeReply(prompt: string): string {
  const [a, b] = blocks(prompt, "response");
  const sa = soundness(a?.text ?? "");
  const sb = soundness(b?.text ?? "");
  const winner = sa.score > sb.score ? "A" : sb.score > sa.score ? "B" : "tie";
  return JSON.stringify({ winner, critique: `Response A: ${sa.why}; response B: ${sb.why}.` });
}
