import { createRoute, z } from "@hono/zod-openapi";
import { db } from "../../db/client";
import { recentUsage, usageTotals, type UsageRow } from "../../db/usage";
import { flushUsage } from "../../serving/usageLog";
import { newRouter } from "../router";
import { usageSchema, type Usage } from "../../contract";
import { agentParam, errorResponses, json, requireAgent } from "./common";

const rowView = (r: UsageRow): Usage["data"][number] => ({
  requestId: r.requestId,
  keyId: r.keyId,
  model: r.model,
  version: r.version,
  status: r.status,
  stream: r.stream,
  promptTokens: r.promptTokens,
  completionTokens: r.completionTokens,
  cachedTokens: r.cachedTokens,
  latencyMs: r.latencyMs,
  ttfbMs: r.ttfbMs,
  surface: r.surface,
  usageEstimated: r.usageEstimated,
  createdAt: r.createdAt,
});

/** Mounted at /api/agents/{agent}/usage: what the chat endpoint served for the agent. */
export const usageRouter = newRouter().openapi(
  createRoute({
    method: "get",
    path: "/{agent}/usage",
    tags: ["usage"],
    request: {
      params: agentParam,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(1000).default(50).openapi({ description: "Recent rows to return (newest first)" }),
      }),
    },
    responses: {
      200: { description: "Totals over all logged requests and the most recent rows", ...json(usageSchema) },
      ...errorResponses,
    },
  }),
  async (c) => {
    const agent = await requireAgent(c.env, c.req.valid("param").agent);
    // Rows still buffered in this isolate are written first, so what this isolate served is visible.
    await flushUsage(c.env);
    const d = db(c.env.DB);
    const [totals, rows] = await Promise.all([usageTotals(d, agent.id), recentUsage(d, agent.id, c.req.valid("query").limit)]);
    return c.json({ agentId: agent.id, totals, data: rows.map(rowView) }, 200);
  },
);
