import { createRoute, z } from "@hono/zod-openapi";
import { canaryPercentSchema, canarySpecSchema } from "../../core/canarySpec";
import { findRunningCanary, listCanaries } from "../../db/canaries";
import { db } from "../../db/client";
import { canaryVerdict, endCanaryByHand, rampCanaryByHand, startCanaryByHand } from "../../promotion/canary";
import { liveMetrics, MAX_BUCKETS } from "../../promotion/liveMetrics";
import { flushUsage } from "../../serving/usageLog";
import { newRouter } from "../router";
import { canaryChangeSchema, canaryStateSchema, liveMetricsSchema } from "../../contract";
import { agentParam, errorResponses, json, requireAgent } from "./common";

const startBody = canarySpecSchema
  .extend({ reason: z.string().max(2000).optional() })
  .strict()
  .openapi("CanaryStart");

const rampBody = z
  .object({ percent: canaryPercentSchema, reason: z.string().max(2000).optional() })
  .strict()
  .openapi("CanaryRamp");

const isoInstant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO 8601 date-time")
  .optional();

/** Mounted at /api/agents: an agent's canary (docs/serving.md, "Canary") and the live metrics of its versions. */
export const canaryRouter = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/canary",
      tags: ["canary"],
      summary: "The running canary with the rule's verdict on its figures now, and the agent's canaries",
      request: { params: agentParam, query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }) },
      responses: { 200: { description: "Canary state", ...json(canaryStateSchema) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const d = db(c.env.DB);
      await flushUsage(c.env);
      const [running, history] = await Promise.all([findRunningCanary(d, agent.id), listCanaries(d, agent.id, c.req.valid("query").limit)]);
      return c.json({ canary: running ?? null, verdict: running ? await canaryVerdict(d, running) : null, history }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/{agent}/canary",
      tags: ["canary"],
      summary: "Start a canary: serve a candidate version to a share of the traffic until the rule promotes or rolls it back",
      request: { params: agentParam, body: { ...json(startBody), required: true } },
      responses: {
        201: { description: "The canary, and its start as recorded at /promotions", ...json(canaryChangeSchema) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const { reason, ...spec } = c.req.valid("json");
      return c.json(await startCanaryByHand(c.env, agent, spec, reason), 201);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{agent}/canary",
      tags: ["canary"],
      summary: "Ramp the running canary: change the candidate's share of the traffic; its users, rules and figures carry on",
      request: { params: agentParam, body: { ...json(rampBody), required: true } },
      responses: {
        200: { description: "The canary at its new share, and the change as recorded at /promotions", ...json(canaryChangeSchema) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const { percent, reason } = c.req.valid("json");
      return c.json(await rampCanaryByHand(c.env, agent, percent, reason), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{agent}/canary",
      tags: ["canary"],
      summary: "End the running canary; the active version serves everyone again",
      request: { params: agentParam, query: z.object({ reason: z.string().max(2000).optional() }) },
      responses: {
        200: { description: "The ended canary, and the decision recorded at /promotions", ...json(canaryChangeSchema) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      return c.json(await endCanaryByHand(c.env, agent, c.req.valid("query").reason), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}/versions/live",
      tags: ["canary"],
      summary: "Live metrics per served version: requests, errors, latency, tokens, feedback and reward, with 95% intervals",
      request: {
        params: agentParam,
        query: z.object({
          since: isoInstant.openapi({ description: "Start of the window (default: the running canary's start, else 24 hours ago)" }),
          until: isoInstant.openapi({ description: "End of the window (default: now)" }),
          bucketSeconds: z.coerce
            .number()
            .int()
            .min(60)
            .max(30 * 86_400)
            .optional()
            .openapi({ description: `Size of a time bucket (default: chosen for at most 48 buckets; at most ${MAX_BUCKETS})` }),
          canary: z.string().min(1).max(100).optional().openapi({ description: "Only the requests this canary assigned (either arm)" }),
        }),
      },
      responses: { 200: { description: "Per version, per bucket and overall", ...json(liveMetricsSchema) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      return c.json(await liveMetrics(c.env, agent, c.req.valid("query"), Date.now()), 200);
    },
  );
