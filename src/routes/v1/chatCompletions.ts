import { Hono } from "hono";
import type { ProxyEnv } from "../../serving/proxyAuth";
import { SURFACES } from "../../serving/surfaces";
import { forward } from "./forward";

/**
 * POST /v1/chat/completions: the agent's library merged into the system message, everything else
 * (tools, response_format, n, seed, unknown fields…) forwarded untouched (forward.ts).
 */
export const chatCompletions = new Hono<ProxyEnv>().post("/chat/completions", (c) => forward(c, SURFACES.chat));
