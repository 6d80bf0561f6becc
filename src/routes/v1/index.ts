import { Hono } from "hono";
import { proxyAuth, type ProxyEnv } from "../../serving/proxyAuth";
import { chatCompletions } from "./chatCompletions";
import { responses } from "./responses";
import { messages } from "./messages";
import { models } from "./models";
import { feedbackRoute } from "./feedback";
import { limitBody } from "../bodyLimit";

/** The proxy: chat completions, responses, models (OpenAI) and messages (Anthropic), authenticated by proxy keys. */
export const v1 = new Hono<ProxyEnv>();

v1.use("/messages", async (c, next) => {
  c.set("errorShape", "anthropic");
  await next();
});
v1.use("*", proxyAuth);
v1.use("*", limitBody("MAX_PROXY_BODY_BYTES"));
v1.route("/", chatCompletions);
v1.route("/", responses);
v1.route("/", messages);
v1.route("/", models);
v1.route("/", feedbackRoute);
