import { z } from "zod";
import { findAgent } from "../db/agents";
import { db } from "../db/client";
import { ensureFeedbackDataset, findCapture, insertFeedback, labelCapture, upsertFeedbackSample } from "../db/captures";

/** Body of POST /v1/feedback. */
export const feedbackSchema = z
  .object({
    request_id: z.string().min(1).max(100),
    reward: z.number().min(0).max(1).optional(),
    answer: z.union([z.string().min(1).max(100_000), z.number()]).optional(),
    comment: z.string().max(10_000).optional(),
  })
  .strict()
  .refine(
    (b) => b.reward !== undefined || b.answer !== undefined || b.comment !== undefined,
    "send at least one of reward, answer, comment",
  );
export type FeedbackInput = z.infer<typeof feedbackSchema>;

export type FeedbackOutcome = { id: string; request_id: string; captured: boolean; sample: { dataset: string; id: string } | null };

/**
 * Logs feedback on one proxied request; when the request was captured, labels it, and a label that
 * names the right answer (an `answer`, or reward 1 making the response itself the answer) becomes a
 * training sample of the agent's feedback data set, keyed by the request id (a later label replaces it).
 */
export async function recordFeedback(env: Env, agentId: string, input: FeedbackInput): Promise<FeedbackOutcome> {
  const d = db(env.DB);
  const answer = input.answer === undefined ? null : String(input.answer);
  const capture = await findCapture(d, agentId, input.request_id);
  let sample: FeedbackOutcome["sample"] = null;
  if (capture) {
    await labelCapture(d, capture.requestId, { reward: input.reward ?? null, answer, comment: input.comment ?? null });
    const label = answer ?? (input.reward === 1 && capture.responseText.trim() !== "" ? capture.responseText : null);
    const agent = await findAgent(d, agentId);
    if (label !== null && capture.question.trim() !== "" && agent) {
      const dataset = await ensureFeedbackDataset(d, agent.name);
      if (dataset) {
        await upsertFeedbackSample(d, dataset.id, {
          sampleId: capture.requestId,
          question: capture.question,
          answer: label,
          extras: {
            source: "feedback",
            requestId: capture.requestId,
            reward: input.reward ?? null,
            labelledFrom: answer !== null ? "answer" : "response",
          },
        });
        sample = { dataset: dataset.name, id: capture.requestId };
      }
    }
  }
  const row = await insertFeedback(d, {
    agentId,
    requestId: input.request_id,
    reward: input.reward ?? null,
    answer,
    comment: input.comment ?? null,
    captured: capture !== undefined,
    sampled: sample !== null,
  });
  return { id: row.id, request_id: input.request_id, captured: capture !== undefined, sample };
}
