import { Hono } from "hono";
import { proxyAuth, type ProxyEnv } from "../../serving/proxyAuth";
import { chatCompletions } from "./chatCompletions";
import { models } from "./models";
import { feedbackRoute } from "./feedback";
import { limitBody } from "../bodyLimit";

/** The OpenAI-compatible surface (chat completions, models), authenticated by proxy keys. */
export const v1 = new Hono<ProxyEnv>();

v1.use("*", proxyAuth);
v1.use("*", limitBody("MAX_PROXY_BODY_BYTES"));
v1.route("/", chatCompletions);
v1.route("/", models);
v1.route("/", feedbackRoute);
