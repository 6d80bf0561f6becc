import { z } from "@hono/zod-openapi";

/** One feedback message on a proxied answer, and its review state (docs/learning.md, "Feedback is reviewed"). */
export const feedbackItemSchema = z
  .object({
    id: z.string(),
    agentId: z.string(),
    requestId: z.string(),
    keyId: z.string().nullable(),
    reward: z.number().nullable(),
    answer: z.string().nullable(),
    comment: z.string().nullable(),
    captured: z.boolean(),
    sampled: z.boolean(),
    status: z.enum(["pending", "approved", "rejected"]),
    reviewedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Feedback");
export type FeedbackItem = z.infer<typeof feedbackItemSchema>;

export const feedbackDecisionSchema = z
  .object({ feedback: feedbackItemSchema, sample: z.object({ dataset: z.string(), id: z.string() }).nullable() })
  .openapi("FeedbackDecision");
