import type { Context } from "hono";
import type { ProxyEnv } from "../../serving/proxyAuth";
import { ApiError, badRequest } from "../../shared/errors";
import { upstreamFetch, upstreamHeaders } from "../../llm/upstream";
import { renderedVersion, type AgentSnapshot } from "../../serving/libraryCache";
import { inCandidateArm } from "../../core/canaryAssignment";
import { settleCanarySoon } from "../../promotion/canary";
import type { MeterResult } from "../../serving/meter";
import { relayReply, VERSION_HEADER } from "../../serving/relay";
import { recordUsage } from "../../serving/usageLog";
import { applyCeiling, surfacesOf, type Surface } from "../../serving/surfaces";
import { describeIssues } from "../router";
import { envString } from "../../shared/env";

/**
 * The request side of every proxy surface (chat completions, responses, messages): the agent's
 * library merged where the surface keeps its instructions (surfaces.ts), the output ceiling applied,
 * everything else forwarded untouched; the reply goes back through `relayReply` (relay.ts).
 */

export const EXPERIENCES_HEADER = "x-experiences";

/** How long the upstream may take to send its response headers (`UPSTREAM_FIRST_BYTE_TIMEOUT_MS`). */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 300_000;

function firstByteTimeoutMs(env: Env): number {
  const raw = Number(envString(env, "UPSTREAM_FIRST_BYTE_TIMEOUT_MS"));
  return Number.isInteger(raw) && raw > 0 ? raw : DEFAULT_FIRST_BYTE_TIMEOUT_MS;
}

/** `canaryId`: the canary that chose the version (either arm); null when none did. */
type Selection = { rendered: string; version: number | null; canaryId: string | null };

/**
 * The active version, or, under a running canary, the arm this request's sticky value (its proxy key, or
 * the named header) hashes into (docs/serving.md, "Canary"). A request without the sticky header is not
 * part of the canary: it gets the active version and is not counted in the canary's figures.
 */
function activeOrCanary(c: Context<ProxyEnv>, agent: AgentSnapshot): Selection {
  const canary = agent.canary;
  if (canary) {
    const value = canary.sticky.kind === "key" ? c.get("keyId") : c.req.header(canary.sticky.name)?.trim();
    if (value) {
      return inCandidateArm(agent.agentId, canary.id, value, canary.percent)
        ? { rendered: canary.rendered, version: canary.version, canaryId: canary.id }
        : { rendered: agent.rendered, version: agent.activeVersion, canaryId: canary.id };
    }
  }
  return { rendered: agent.rendered, version: agent.activeVersion, canaryId: null };
}

/** Which library this request gets: none (`x-experiences: off`), a pinned version, or the active one (or a canary's). */
async function selectLibrary(c: Context<ProxyEnv>, agent: AgentSnapshot): Promise<Selection> {
  const toggle = c.req.header(EXPERIENCES_HEADER)?.trim().toLowerCase();
  if (toggle !== undefined && toggle !== "on" && toggle !== "off") {
    throw badRequest(`header ${EXPERIENCES_HEADER} must be 'on' or 'off'`, "invalid_header", EXPERIENCES_HEADER);
  }
  if (toggle === "off") return { rendered: "", version: null, canaryId: null };
  const pin = c.req.header(VERSION_HEADER)?.trim();
  if (pin === undefined || pin === "") return activeOrCanary(c, agent);
  if (!/^\d{1,9}$/.test(pin))
    throw badRequest(`header ${VERSION_HEADER} must be a library version number`, "invalid_header", VERSION_HEADER);
  if (!agent.allowVersionPin) {
    throw new ApiError(
      403,
      `this agent does not allow pinning a library version (header ${VERSION_HEADER}); enable allowVersionPin on the agent`,
      "version_pin_disabled",
      VERSION_HEADER,
    );
  }
  const version = Number(pin);
  const rendered = await renderedVersion(c.env, agent, version);
  if (rendered === null)
    throw new ApiError(404, `library version ${version} not found for this agent`, "version_not_found", VERSION_HEADER);
  return { rendered, version, canaryId: null };
}

async function readBody(
  c: Context<ProxyEnv>,
  surface: Surface,
): Promise<Record<string, unknown> & { model?: string; stream?: boolean | null }> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw badRequest("request body must be a JSON object", "invalid_json");
  }
  const parsed = surface.schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw badRequest(`invalid body: ${describeIssues(parsed.error.issues)}`, "invalid_request", first?.path.join(".") || null);
  }
  return parsed.data;
}

export async function forward(c: Context<ProxyEnv>, surface: Surface): Promise<Response> {
  const startedAt = Date.now();
  const agent = c.get("agent");
  const requestId = c.get("requestId");
  let model: string | null = null;
  let version: number | null = null;
  let canaryId: string | null = null;
  let stream = false;
  const log = (status: number, meter: MeterResult | null) => {
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
      surface: surface.id,
      usageEstimated: meter?.estimated === true,
      createdAt: new Date(startedAt).toISOString(),
      canaryId,
    });
    // An error under a canary may be what rolls it back: settle it now rather than at the next cron tick.
    if (canaryId !== null && status >= 400 && status !== 499) c.executionCtx.waitUntil(settleCanarySoon(c.env, agent.agentId));
  };

  let upstream: Response;
  let respondedAt = 0;
  let versionHeader = "none";
  let estimateFrom: number | null = null;
  try {
    if (agent.upstream.format !== surface.format) {
      throw badRequest(
        `this agent's upstream speaks the ${agent.upstream.format === "anthropic" ? "Anthropic Messages" : "OpenAI"} API: use ${surfacesOf(agent.upstream.format).join(" or ")}`,
        "unsupported_surface",
      );
    }
    const body = await readBody(c, surface);
    stream = body.stream === true;
    model = body.model ?? agent.upstream.model;
    if (!agent.models.includes(model)) {
      throw badRequest(
        `model '${model}' is not available with this key; use one of: ${agent.models.join(", ")}`,
        "model_not_allowed",
        "model",
      );
    }
    const selection = await selectLibrary(c, agent);
    version = selection.version;
    canaryId = selection.canaryId;
    versionHeader = version === null ? "none" : String(version);
    const sent = JSON.stringify(
      applyCeiling(surface.inject({ ...body, model }, selection.rendered, agent.injectPosition), surface.maxTokenFields, agent.maxTokens),
    );
    // The prompt's size, for an estimate should the stream report no usage (or be left early).
    estimateFrom = sent.length;
    // An upstream that takes the request but never answers must not hold it forever: until its
    // headers arrive, a first-byte timeout runs alongside the client's own signal.
    const firstByte = new AbortController();
    const firstByteMs = firstByteTimeoutMs(c.env);
    const timer = setTimeout(() => firstByte.abort(new DOMException("no first byte", "TimeoutError")), firstByteMs);
    try {
      upstream = await upstreamFetch(agent.upstream.baseUrl, surface.path, {
        method: "POST",
        headers: upstreamHeaders(agent.upstream, stream ? "text/event-stream" : "application/json", c.req.raw.headers),
        body: sent,
        signal: AbortSignal.any([c.req.raw.signal, firstByte.signal]),
      });
      respondedAt = Date.now();
    } catch (error) {
      if (c.req.raw.signal.aborted) throw new ApiError(400, "request cancelled by the client", "client_closed_request");
      if (firstByte.signal.aborted) throw new ApiError(504, `the upstream sent nothing within ${firstByteMs} ms`, "upstream_timeout");
      throw new ApiError(502, `upstream unreachable (${error instanceof Error ? error.name : "error"})`, "upstream_unreachable");
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    if (error instanceof ApiError) {
      c.header(VERSION_HEADER, versionHeader);
      log(c.req.raw.signal.aborted ? 499 : error.status, null);
    }
    throw error;
  }

  return relayReply(c, upstream, {
    requestId,
    versionHeader,
    version,
    respondedAt,
    log,
    meter: { textFields: surface.textFields, estimate: { promptChars: estimateFrom ?? 0 } },
  });
}
