import { Hono } from "hono";
import type { ProxyEnv } from "../../serving/proxyAuth";

/** GET /v1/models: the models this key may ask for (the agent's upstream model first), OpenAI list shape. */
export const models = new Hono<ProxyEnv>().get("/models", (c) => {
  const agent = c.get("agent");
  return c.json({
    object: "list",
    data: agent.models.map((id) => ({ id, object: "model", created: 0, owned_by: "tfgrpo-edge" })),
  });
});
