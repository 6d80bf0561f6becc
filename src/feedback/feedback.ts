import { z } from "zod";
import { captureConfigSchema } from "../core/policies";
import { findAgent } from "../db/agents";
import { db } from "../db/client";
import {
  decideFeedback,
  ensureFeedbackDataset,
  findCapture,
  findFeedback,
  insertFeedbackUnderCap,
  labelCapture,
  upsertFeedbackSample,
  type FeedbackRow,
} from "../db/captures";
import { ApiError, conflict, notFound } from "../shared/errors";

/** Characters of an answer in a feedback message (a label, not a document). */
export const MAX_FEEDBACK_ANSWER_CHARS = 2_000;

/** Body of POST /v1/feedback. */
export const feedbackSchema = z
  .object({
    request_id: z.string().min(1).max(100),
    reward: z.number().min(0).max(1).optional(),
    answer: z.union([z.string().min(1).max(MAX_FEEDBACK_ANSWER_CHARS), z.number()]).optional(),
    comment: z.string().max(10_000).optional(),
  })
  .strict()
  .refine(
    (b) => b.reward !== undefined || b.answer !== undefined || b.comment !== undefined,
    "send at least one of reward, answer, comment",
  );
export type FeedbackInput = z.infer<typeof feedbackSchema>;

export type FeedbackOutcome = { id: string; request_id: string; captured: boolean; status: "pending"; sample: null };

const startOfUtcDay = (nowMs: number): string => `${new Date(nowMs).toISOString().slice(0, 10)}T00:00:00.000Z`;

/**
 * Logs feedback on one proxied request and labels the captured exchange, but writes no training data:
 * the row is pending until an admin approves it (docs/learning.md, "Feedback is reviewed"). One key may
 * send at most the agent's `capture.feedbackPerKeyPerDay` messages per UTC day; more get 429.
 */
export async function recordFeedback(
  env: Env,
  agentId: string,
  keyId: string,
  input: FeedbackInput,
  nowMs: number,
): Promise<FeedbackOutcome> {
  const d = db(env.DB);
  const agent = await findAgent(d, agentId);
  if (!agent) throw notFound("agent", agentId);
  const cap = captureConfigSchema.safeParse(agent.capture);
  const perDay = cap.success ? cap.data.feedbackPerKeyPerDay : 200;
  const answer = input.answer === undefined ? null : String(input.answer);
  const capture = await findCapture(d, agentId, input.request_id);
  const row = await insertFeedbackUnderCap(
    d,
    {
      agentId,
      keyId,
      requestId: input.request_id,
      reward: input.reward ?? null,
      answer,
      comment: input.comment ?? null,
      captured: capture !== undefined,
      sampled: false,
      status: "pending",
    },
    { sinceIso: startOfUtcDay(nowMs), perDay },
  );
  if (!row) {
    throw new ApiError(429, `this key sent its ${perDay} feedback messages for today (UTC); try again tomorrow`, "feedback_cap_exceeded");
  }
  // Only feedback that was stored labels the exchange.
  if (capture) await labelCapture(d, capture.requestId, { reward: input.reward ?? null, answer, comment: input.comment ?? null });
  return { id: row.id, request_id: input.request_id, captured: capture !== undefined, status: "pending", sample: null };
}

export type FeedbackDecision = { feedback: FeedbackRow; sample: { dataset: string; id: string } | null };

/**
 * An admin's decision on a pending feedback row. Approval turns a label that names the right answer (an
 * `answer`, or reward 1 making the captured response the answer) into a sample of the agent's feedback
 * data set, keyed by the request id; feedback that carries no such label, or whose exchange is no longer
 * captured, cannot be approved (409) and can only be rejected.
 */
export async function reviewFeedback(env: Env, agentId: string, id: string, decision: "approve" | "reject"): Promise<FeedbackDecision> {
  const d = db(env.DB);
  const row = await findFeedback(d, agentId, id);
  if (!row) throw notFound("feedback", id);
  if (row.status !== "pending") throw conflict(`feedback '${id}' is already ${row.status}`, "already_reviewed");
  let sample: FeedbackDecision["sample"] = null;
  if (decision === "approve") {
    const capture = await findCapture(d, agentId, row.requestId);
    if (!capture || capture.question.trim() === "")
      throw conflict(`the exchange of feedback '${id}' is not captured (or past its retention): nothing to learn from`, "not_captured");
    const label = row.answer ?? (row.reward === 1 && capture.responseText.trim() !== "" ? capture.responseText : null);
    if (label === null)
      throw conflict(`feedback '${id}' names no right answer (send an answer, or reward 1): reject it instead`, "no_label");
    const agent = await findAgent(d, agentId);
    const dataset = agent ? await ensureFeedbackDataset(d, agent.name) : null;
    if (!dataset) throw conflict(`the agent's feedback data set name is held by another data set`, "dataset_name_taken");
    await upsertFeedbackSample(d, dataset.id, {
      sampleId: capture.requestId,
      question: capture.question,
      answer: label,
      extras: {
        source: "feedback",
        requestId: capture.requestId,
        reward: row.reward,
        labelledFrom: row.answer !== null ? "answer" : "response",
        feedbackId: row.id,
      },
    });
    sample = { dataset: dataset.name, id: capture.requestId };
  }
  if (!(await decideFeedback(d, id, decision === "approve" ? "approved" : "rejected", sample !== null))) {
    throw conflict(`feedback '${id}' was reviewed concurrently`, "already_reviewed");
  }
  const after = await findFeedback(d, agentId, id);
  if (!after) throw notFound("feedback", id);
  return { feedback: after, sample };
}
