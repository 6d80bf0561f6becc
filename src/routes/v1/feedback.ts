import { Hono } from "hono";
import type { ProxyEnv } from "../../serving/proxyAuth";
import { badRequest } from "../../shared/errors";
import { feedbackSchema, recordFeedback } from "../../feedback/feedback";
import { describeIssues } from "../router";
import { settleCanarySoon } from "../../promotion/canary";

/**
 * POST /v1/feedback (proxy key): `{request_id, reward?, answer?, comment?}` about one response of this
 * agent, named by its `x-request-id`. Logged as pending (capped per key and day) and labels a captured
 * exchange; only an admin's approval turns it into a sample of the agent's feedback data set.
 */
export const feedbackRoute = new Hono<ProxyEnv>().post("/feedback", async (c) => {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw badRequest("request body must be a JSON object", "invalid_json");
  }
  const parsed = feedbackSchema.safeParse(raw);
  if (!parsed.success) {
    throw badRequest(
      `invalid body: ${describeIssues(parsed.error.issues)}`,
      "invalid_request",
      parsed.error.issues[0]?.path.join(".") || null,
    );
  }
  const agent = c.get("agent");
  const outcome = await recordFeedback(c.env, agent.agentId, c.get("keyId"), parsed.data, Date.now());
  // A reward may be what a running canary was waiting for (docs/serving.md, "Canary").
  if (agent.canary && parsed.data.reward !== undefined) c.executionCtx.waitUntil(settleCanarySoon(c.env, agent.agentId));
  return c.json(outcome, 200);
});
