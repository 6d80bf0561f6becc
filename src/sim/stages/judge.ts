/** Judge stage (`### TASK: GRADE RESPONSE`): compares the response's final answer with the reference. */
import { extractFinalAnswer, sameAnswer } from "../solver";

function findResponse(prompt: string): string {
  const tagged = /<response>([\s\S]*?)<\/response>/.exec(prompt)?.[1];
  if (tagged !== undefined) return tagged;
  const headed = /(?:^|\n)(?:Response|Answer to grade|The response|Model response)[^\n]*:\s*\n([\s\S]*)$/i.exec(prompt)?.[1];
  if (headed !== undefined) return headed;
  return prompt.split(/Reference answer:[^\n]*\n/)[1] ?? "";
}

export function judgeReply(prompt: string): string {
  const reference = /Reference(?: answer)?:\s*(.*)/i.exec(prompt)?.[1]?.trim() ?? "";
  const response = findResponse(prompt);
  const final = extractFinalAnswer(response);
  const score = final !== null && reference !== "" && sameAnswer(final, reference) ? 1 : 0;
  const critique =
    final === null
      ? "The response gives no final answer."
      : score
        ? `The final answer ${final} matches the reference ${reference}.`
        : `The final answer ${final} does not match the reference ${reference}.`;
  return JSON.stringify({ score, critique });
}
