import { Hono, type Context } from "hono";
import { z } from "zod";
import type { ProxyEnv } from "../../auth/proxyAuth";
import { injectLibrary } from "../../core/inject";
import { ApiError, badRequest } from "../../errors";
import { upstreamFetch, upstreamHeaders } from "../../llm/upstream";
import { renderedVersion, type AgentSnapshot } from "../../serving/libraryCache";
import { bodyKind, jsonUsage, MAX_JSON_BYTES, meterBody, type MeterResult } from "../../serving/meter";
import { recordUsage } from "../../serving/usageLog";
import { captureTap } from "../../feedback/capture";
import { describeIssues } from "../router";

/**
 * POST /v1/chat/completions: the agent's library merged into the system message, everything else
 * (tools, response_format, n, seed, unknown fields…) forwarded untouched; the upstream's status, headers
 * and body come back as they are, streamed chunk by chunk.
 */

/** Only what we rewrite is checked; every other field passes through as the client sent it. */
const requestSchema = z.looseObject({
  model: z.string().min(1).optional(),
  messages: z.array(z.looseObject({ role: z.string() })),
  stream: z.boolean().nullish(),
});

export const EXPERIENCES_HEADER = "x-experiences";
export const VERSION_HEADER = "x-experience-version";

/** Response headers that describe the upstream's framing, not the body we send on. */
const DROP_RESPONSE_HEADERS = ["content-length", "transfer-encoding", "connection", "keep-alive"];

type Selection = { rendered: string; version: number | null };

/** Which library this request gets: none (`x-experiences: off`), a pinned version, or the active one. */
async function selectLibrary(c: Context<ProxyEnv>, agent: AgentSnapshot): Promise<Selection> {
  const toggle = c.req.header(EXPERIENCES_HEADER)?.trim().toLowerCase();
  if (toggle !== undefined && toggle !== "on" && toggle !== "off") {
    throw badRequest(`header ${EXPERIENCES_HEADER} must be 'on' or 'off'`, "invalid_header", EXPERIENCES_HEADER);
  }
  if (toggle === "off") return { rendered: "", version: null };
  const pin = c.req.header(VERSION_HEADER)?.trim();
  if (pin === undefined || pin === "") return { rendered: agent.rendered, version: agent.activeVersion };
  if (!/^\d{1,9}$/.test(pin)) throw badRequest(`header ${VERSION_HEADER} must be a library version number`, "invalid_header", VERSION_HEADER);
  if (!agent.allowVersionPin) {
    throw new ApiError(403, `this agent does not allow pinning a library version (header ${VERSION_HEADER}); enable allowVersionPin on the agent`, "version_pin_disabled", VERSION_HEADER);
  }
  const version = Number(pin);
  const rendered = await renderedVersion(c.env, agent, version);
  if (rendered === null) throw new ApiError(404, `library version ${version} not found for this agent`, "version_not_found", VERSION_HEADER);
  return { rendered, version };
}

async function readBody(c: Context<ProxyEnv>): Promise<z.infer<typeof requestSchema>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw badRequest("request body must be a JSON object", "invalid_json");
  }
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw badRequest(`invalid body: ${describeIssues(parsed.error.issues)}`, "invalid_request", first?.path.join(".") || null);
  }
  return parsed.data;
}

export const chatCompletions = new Hono<ProxyEnv>().post("/chat/completions", async (c) => {
  const startedAt = Date.now();
  const agent = c.get("agent");
  const requestId = c.get("requestId");
  let model: string | null = null;
  let version: number | null = null;
  let stream = false;
  const log = (status: number, meter: MeterResult | null) =>
    recordUsage(c.env, c.executionCtx, {
      requestId,
      agentId: agent.agentId,
      keyId: c.get("keyId"),
      model,
      version,
      status,
      stream,
      promptTokens: meter?.usage?.promptTokens ?? null,
      completionTokens: meter?.usage?.completionTokens ?? null,
      cachedTokens: meter?.usage?.cachedTokens ?? null,
      latencyMs: (meter?.endedAt ?? Date.now()) - startedAt,
      ttfbMs: meter?.firstByteAt != null ? meter.firstByteAt - startedAt : null,
      createdAt: new Date(startedAt).toISOString(),
    });

  let upstream: Response;
  let respondedAt = 0;
  let versionHeader = "none";
  try {
    const body = await readBody(c);
    stream = body.stream === true;
    model = body.model ?? agent.upstream.model;
    if (!agent.models.includes(model)) {
      throw badRequest(`model '${model}' is not available with this key; use one of: ${agent.models.join(", ")}`, "model_not_allowed", "model");
    }
    const selection = await selectLibrary(c, agent);
    version = selection.version;
    versionHeader = version === null ? "none" : String(version);
    const messages = injectLibrary(body.messages, selection.rendered, agent.injectPosition);
    try {
      upstream = await upstreamFetch(agent.upstream.baseUrl, "/chat/completions", {
        method: "POST",
        headers: upstreamHeaders(agent.upstream, stream ? "text/event-stream" : "application/json"),
        body: JSON.stringify({ ...body, model, messages }),
        signal: c.req.raw.signal,
      });
      respondedAt = Date.now();
    } catch (error) {
      if (c.req.raw.signal.aborted) throw new ApiError(400, "request cancelled by the client", "client_closed_request");
      throw new ApiError(502, `upstream unreachable (${error instanceof Error ? error.name : "error"})`, "upstream_unreachable");
    }
  } catch (error) {
    if (error instanceof ApiError) {
      c.header(VERSION_HEADER, versionHeader);
      log(error.status, null);
    }
    throw error;
  }

  const headers = new Headers(upstream.headers);
  for (const name of DROP_RESPONSE_HEADERS) headers.delete(name);
  const upstreamRequestId = headers.get("x-request-id");
  if (upstreamRequestId) headers.set("x-upstream-request-id", upstreamRequestId);
  headers.set("x-request-id", requestId);
  headers.set(VERSION_HEADER, versionHeader);

  if (!upstream.body) {
    log(upstream.status, { usage: null, firstByteAt: null, endedAt: Date.now(), completed: true });
    return new Response(null, { status: upstream.status, statusText: upstream.statusText, headers });
  }
  const kind = bodyKind(upstream.headers.get("content-type"));
  const declaredLength = Number(upstream.headers.get("content-length") ?? Number.NaN);
  if (kind === "json" && !agent.capture && declaredLength <= MAX_JSON_BYTES) {
    // A non-streamed reply is complete when its headers arrive: sent on as one buffer, no stream to
    // pump through the Worker, and its usage is read after the response has gone.
    let bytes: ArrayBuffer;
    try {
      bytes = await upstream.arrayBuffer();
    } catch (error) {
      const status = c.req.raw.signal.aborted ? 499 : 502;
      log(status, { usage: null, firstByteAt: respondedAt, endedAt: Date.now(), completed: false });
      if (status === 499) throw new ApiError(400, "request cancelled by the client", "client_closed_request");
      throw new ApiError(502, `upstream reply cut off (${error instanceof Error ? error.name : "error"})`, "upstream_unreachable");
    }
    const endedAt = Date.now();
    c.executionCtx.waitUntil(Promise.resolve().then(() => log(upstream.status, { usage: jsonUsage(bytes), firstByteAt: respondedAt, endedAt, completed: true })));
    return new Response(bytes, { status: upstream.status, statusText: upstream.statusText, headers });
  }
  const meter = meterBody(kind, upstream.body);
  const signal = c.req.raw.signal;
  signal.addEventListener("abort", meter.stop, { once: true });
  c.executionCtx.waitUntil(
    meter.result.then((result) => {
      signal.removeEventListener("abort", meter.stop);
      // 499 (as nginx names it): the client went away before the body ended.
      log(result.completed ? upstream.status : 499, result);
    }),
  );
  const body = agent.capture ? captureTap(c, upstream, meter.body, version) : meter.body;
  return new Response(body, { status: upstream.status, statusText: upstream.statusText, headers });
});
