import type { Context } from "hono";
import type { ProxyEnv } from "./proxyAuth";
import { anthropicErrorBody, ApiError, errorBody } from "../shared/errors";
import { captureTap } from "./capture";
import { bodyKind, jsonUsage, MAX_JSON_BYTES, meterBody, type MeterOptions, type MeterResult } from "./meter";

/** Names the library version a response was produced with ("none" without one); also pins one on a request. */
export const VERSION_HEADER = "x-experience-version";

/**
 * Upstream response headers a client may see (docs/security.md, "Upstream replies"): the content type,
 * retry hints, rate-limit headers and request ids. Everything else (cookies, organisation and project
 * ids, framing, server details) stays behind.
 */
const KEPT_RESPONSE_HEADERS = new Set([
  "content-type",
  "retry-after",
  "retry-after-ms",
  "x-request-id",
  "request-id",
  "openai-processing-ms",
]);
const KEPT_RESPONSE_PREFIXES = ["x-ratelimit-", "anthropic-ratelimit-", "ratelimit"];

export function allowedResponseHeaders(upstream: Headers): Headers {
  const headers = new Headers();
  for (const [name, value] of upstream) {
    if (KEPT_RESPONSE_HEADERS.has(name) || KEPT_RESPONSE_PREFIXES.some((p) => name.startsWith(p))) headers.append(name, value);
  }
  return headers;
}

/**
 * An upstream that refuses the agent's own credentials (401, 403) is the admin's problem, not the
 * client's: its body (OpenAI's names the masked key) is replaced by our error, as a 502, so that a
 * client SDK does not report the client's proxy key as invalid.
 */
function upstreamAuthFailure(status: number, headers: Headers, anthropic: boolean): Response {
  headers.set("content-type", "application/json");
  const message = `the upstream refused this agent's credentials (HTTP ${status}); ask the agent's administrator`;
  // In the error shape of the surface the client called (Anthropic's on /v1/messages).
  const body = (anthropic ? anthropicErrorBody : errorBody)(502, message, "upstream_auth_failed");
  return new Response(JSON.stringify(body), { status: 502, headers });
}

export type Relay = {
  requestId: string;
  /** Value of the version header: the injected version, or "none". */
  versionHeader: string;
  /** Library version recorded with a captured exchange. */
  version: number | null;
  /** Epoch ms when the upstream's headers arrived. */
  respondedAt: number;
  /** Writes the usage row (status, and what the meter saw). */
  log: (status: number, meter: MeterResult | null) => void;
  /** How the stream meter counts generated text (for estimates) in this surface's wire format. */
  meter?: MeterOptions;
};

/**
 * The response side of the chat proxy: the upstream's status, headers and body go back as they are,
 * with our request id and the injected version added, and every reply is logged once with the usage it
 * reports. A stream passes through chunk by chunk (metered on a `tee()` branch, see meter.ts); a
 * non-streamed reply of declared length is complete when its headers arrive and goes back as one
 * buffer, with no stream pumped through the Worker and its usage read after the response has gone.
 */
export async function relayReply(c: Context<ProxyEnv>, upstream: Response, relay: Relay): Promise<Response> {
  const headers = allowedResponseHeaders(upstream.headers);
  const upstreamRequestId = headers.get("x-request-id");
  if (upstreamRequestId) headers.set("x-upstream-request-id", upstreamRequestId);
  headers.set("x-request-id", relay.requestId);
  headers.set(VERSION_HEADER, relay.versionHeader);
  const init = { status: upstream.status, statusText: upstream.statusText, headers };
  const agent = c.get("agent");

  if (upstream.status === 401 || upstream.status === 403) {
    await upstream.body?.cancel().catch(() => undefined);
    console.error(`request ${relay.requestId}: agent ${agent.agentId}'s upstream refused its credentials (HTTP ${upstream.status})`);
    relay.log(502, { usage: null, firstByteAt: relay.respondedAt, endedAt: Date.now(), completed: true });
    return upstreamAuthFailure(upstream.status, headers, c.get("errorShape") === "anthropic");
  }
  if (!upstream.body) {
    relay.log(upstream.status, { usage: null, firstByteAt: null, endedAt: Date.now(), completed: true });
    return new Response(null, init);
  }
  const kind = bodyKind(upstream.headers.get("content-type"));
  const declaredLength = Number(upstream.headers.get("content-length") ?? Number.NaN);
  if (kind === "json" && !agent.capture && declaredLength <= MAX_JSON_BYTES) {
    let bytes: ArrayBuffer;
    try {
      bytes = await upstream.arrayBuffer();
    } catch (error) {
      const cancelled = c.req.raw.signal.aborted;
      relay.log(cancelled ? 499 : 502, { usage: null, firstByteAt: relay.respondedAt, endedAt: Date.now(), completed: false });
      if (cancelled) throw new ApiError(400, "request cancelled by the client", "client_closed_request");
      throw new ApiError(502, `upstream reply cut off (${error instanceof Error ? error.name : "error"})`, "upstream_unreachable");
    }
    const endedAt = Date.now();
    c.executionCtx.waitUntil(
      Promise.resolve().then(() =>
        relay.log(upstream.status, { usage: jsonUsage(bytes), firstByteAt: relay.respondedAt, endedAt, completed: true }),
      ),
    );
    return new Response(bytes, init);
  }

  // A fetched reply has its URL; one made in this process (the simulated model's) has none.
  const meter = meterBody(kind, upstream.body, { ...relay.meter, native: upstream.url !== "" });
  const signal = c.req.raw.signal;
  signal.addEventListener("abort", meter.stop, { once: true });
  c.executionCtx.waitUntil(
    meter.result.then((result) => {
      signal.removeEventListener("abort", meter.stop);
      // 499 (as nginx names it): the client went away before the body ended.
      relay.log(result.completed ? upstream.status : 499, result);
    }),
  );
  const body = agent.capture ? captureTap(c, upstream, meter.body, relay.version) : meter.body;
  return new Response(body, init);
}
