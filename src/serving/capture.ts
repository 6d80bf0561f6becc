import type { Context } from "hono";
import type { ProxyEnv } from "./proxyAuth";
import { questionOf, responseTextOf } from "../core/capture";
import { expiryOf } from "../core/periods";
import type { CaptureConfig } from "../core/policies";
import { captureSettingOf, insertCapture } from "../db/captures";
import { db } from "../db/client";
import { concatBytes } from "./meter";
import { servingTtlMs } from "./ttl";

/**
 * Capture of proxied exchanges for learning (opt-in per agent). Nothing here runs before the response
 * is on its way: the body is watched as it streams and the row is written in `waitUntil`.
 */

/** Bytes of a response kept for capture; a longer body is passed through but not captured. */
export const MAX_CAPTURE_BYTES = 1024 * 1024;

/** Per-isolate cache of agents' capture settings, refreshed at most once per serving TTL. */
const settings = new Map<string, { capture: CaptureConfig; readAt: number }>();

async function captureSetting(env: Env, agentId: string): Promise<CaptureConfig | null> {
  const hit = settings.get(agentId);
  if (hit && Date.now() - hit.readAt < servingTtlMs(env)) return hit.capture;
  const row = await captureSettingOf(db(env.DB), agentId);
  if (!row) return null;
  settings.set(agentId, { capture: row.capture, readAt: Date.now() });
  return row.capture;
}

/** Forgets the cached setting (after the agent changed in this isolate). */
export function forgetCaptureSetting(agentId: string): void {
  settings.delete(agentId);
}

export type Exchange = {
  agentId: string;
  /** The id the response's `x-request-id` header named. */
  requestId: string;
  /** The chat request body as the client sent it (before the library was injected). */
  request: unknown;
  /** The assistant text of the response. */
  responseText: string;
  /** The library version served, if any. */
  version?: number | null;
};

/**
 * Stores one exchange when the agent has capture enabled, under its request id, expiring after the
 * agent's retention. Returns whether it was stored. Never throws for a disabled agent or a replay.
 */
export async function captureExchange(env: Env, exchange: Exchange): Promise<boolean> {
  const capture = await captureSetting(env, exchange.agentId);
  if (!capture?.enabled) return false;
  const now = Date.now();
  await insertCapture(db(env.DB), {
    requestId: exchange.requestId,
    agentId: exchange.agentId,
    version: exchange.version ?? null,
    request: exchange.request,
    question: questionOf(exchange.request),
    responseText: exchange.responseText,
    createdAt: new Date(now).toISOString(),
    expiresAt: expiryOf(now, capture.retentionDays),
  });
  return true;
}

/**
 * For the chat proxy: passes the response body through unchanged (chunk by chunk, nothing held back)
 * while keeping a copy, and when it ends calls `captureExchange` in `waitUntil`. Only 2xx responses
 * are captured; the request body is Hono's cached parse of what the client sent.
 */
export function captureTap(
  c: Context<ProxyEnv>,
  upstream: Pick<Response, "status" | "headers">,
  body: ReadableStream<Uint8Array>,
  version: number | null,
): ReadableStream<Uint8Array> {
  if (upstream.status < 200 || upstream.status >= 300) return body;
  const contentType = upstream.headers.get("content-type");
  const chunks: Uint8Array[] = [];
  let size = 0;
  const agent = c.get("agent");
  const requestId = c.get("requestId");
  const env = c.env;
  const ctx = c.executionCtx;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      size += chunk.byteLength;
      if (size <= MAX_CAPTURE_BYTES) chunks.push(chunk);
    },
    flush() {
      if (size > MAX_CAPTURE_BYTES) return;
      const type = (contentType ?? "").toLowerCase();
      const kind = type.includes("text/event-stream") ? "sse" : type.includes("json") ? "json" : "other";
      const text = new TextDecoder().decode(concatBytes(chunks, size));
      ctx.waitUntil(
        (async () => {
          const request: unknown = await c.req.json().catch(() => null);
          await captureExchange(env, {
            agentId: agent.agentId,
            requestId,
            request,
            responseText: responseTextOf(kind, text),
            version,
          });
        })().catch((error: unknown) => console.error(`capture of ${requestId} failed: ${error instanceof Error ? error.name : "error"}`)),
      );
    },
  });
  return body.pipeThrough(tap);
}
