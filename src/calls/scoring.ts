import { deriveSeed } from "../core/batching";
import { buildJudgePrompt, parseJudgeReply } from "../verifiers/judge";
import { isJudge, verify, type VerifyResult } from "../verifiers";
import { callLlm, type CallContext } from "./llmCall";

type Scorable = { call: CallContext; verifier: Parameters<typeof verify>[0]; agent: { objective: string }; params: { seed: number } };

/** The score of a response when it needs no LLM call (a pure verifier, or an unlabelled sample), else null. */
export function scoreWithoutCall(
  ctx: Pick<Scorable, "verifier">,
  input: { question: string; answer: string; response: string },
): VerifyResult | null {
  // An unlabelled sample (captured traffic, docs/learning.md) has nothing to be scored against.
  if (input.answer.trim() === "") return { reward: 0, critique: "unlabelled sample: not scored" };
  return isJudge(ctx.verifier) ? null : verify(ctx.verifier, input);
}

/**
 * Scores one response. Pure verifiers run in place; the `judge` verifier is one more idempotent LLM
 * call, and an unusable verdict scores 0 with the reason as critique rather than failing the group.
 */
export async function scoreResponse(
  ctx: Scorable,
  input: { key: string; question: string; answer: string; response: string },
): Promise<VerifyResult> {
  const pure = scoreWithoutCall(ctx, input);
  if (pure) return pure;
  // Only the judge is left: one stored call.
  const options = (isJudge(ctx.verifier) ? ctx.verifier.options : undefined) ?? {};
  const verdict = await callLlm(ctx.call, {
    key: `${input.key}/judge`,
    stage: "judge",
    messages: buildJudgePrompt({
      question: input.question,
      reference: input.answer,
      response: input.response,
      objective: options.objective ?? ctx.agent.objective,
    }),
    temperature: 0,
    seed: deriveSeed(ctx.params.seed, "judge", input.key),
    parse: (text) => {
      const parsed = parseJudgeReply(text);
      return "error" in parsed ? { ok: false, error: parsed.error } : { ok: true, value: parsed };
    },
  });
  return verdict.ok ? verdict.value : { reward: 0, critique: `judge unavailable: ${verdict.error}` };
}
