import { Hono } from "hono";
import type { ProxyEnv } from "../../serving/proxyAuth";
import { SURFACES } from "../../serving/surfaces";
import { forward } from "./forward";

/**
 * POST /v1/messages (Anthropic Messages API): the library merged into `system` without a second
 * block; `anthropic-version` and `anthropic-beta` forwarded; errors in Anthropic's shape (set up in
 * index.ts before authentication, so that a refused key is reported in that shape too).
 */
export const messages = new Hono<ProxyEnv>().post("/messages", (c) => forward(c, SURFACES.messages));
