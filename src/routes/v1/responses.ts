import { Hono } from "hono";
import type { ProxyEnv } from "../../serving/proxyAuth";
import { SURFACES } from "../../serving/surfaces";
import { forward } from "./forward";

/**
 * POST /v1/responses (OpenAI Responses API): the library merged into `instructions`; `input` in every
 * form, tools, `previous_response_id`, `store` and unknown fields forwarded untouched (forward.ts).
 */
export const responses = new Hono<ProxyEnv>().post("/responses", (c) => forward(c, SURFACES.responses));
