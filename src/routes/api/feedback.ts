import { createRoute, z } from "@hono/zod-openapi";
import { db } from "../../db/client";
import { listFeedback } from "../../db/captures";
import { reviewFeedback } from "../../feedback/feedback";
import { newRouter } from "../router";
import { feedbackDecisionSchema, feedbackItemSchema, listOf } from "../../contract";
import { agentParam, errorResponses, json, requireAgent } from "./common";

const feedbackParam = agentParam.extend({ id: z.string().min(1).max(100) });

const decide = (decision: "approve" | "reject") =>
  createRoute({
    method: "post",
    path: `/{agent}/feedback/{id}/${decision}`,
    tags: ["feedback"],
    request: { params: feedbackParam },
    responses: {
      200: {
        description:
          decision === "approve"
            ? "Approved: the label is now a sample of the agent's feedback data set"
            : "Rejected: it will never be used",
        ...json(feedbackDecisionSchema),
      },
      ...errorResponses,
    },
  });

/** Mounted at /api/agents/{agent}/feedback: the review of feedback before any run may use it. */
export const feedbackRouter = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/feedback",
      tags: ["feedback"],
      request: {
        params: agentParam,
        query: z.object({
          status: z.enum(["pending", "approved", "rejected"]).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: { 200: { description: "The agent's feedback, newest first", ...json(listOf(feedbackItemSchema)) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const { status, limit } = c.req.valid("query");
      return c.json({ data: await listFeedback(db(c.env.DB), agent.id, status, limit) }, 200);
    },
  )
  .openapi(decide("approve"), async (c) => {
    const { agent: name, id } = c.req.valid("param");
    const agent = await requireAgent(c.env, name);
    return c.json(await reviewFeedback(c.env, agent.id, id, "approve"), 200);
  })
  .openapi(decide("reject"), async (c) => {
    const { agent: name, id } = c.req.valid("param");
    const agent = await requireAgent(c.env, name);
    return c.json(await reviewFeedback(c.env, agent.id, id, "reject"), 200);
  });
