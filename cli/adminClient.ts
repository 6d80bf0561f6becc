/**
 * A tiny typed fetch client for the admin API (`/api`), shared by `npm start` and the `tfgrpo` CLI.
 * Errors come back in the OpenAI shape `{"error": {message, type, code, param}}` and are thrown as
 * `AdminApiError` carrying the HTTP status and the API's message.
 *
 * Local-engine caveat: a request to `wrangler dev` can stall while the Workflow engine is busy (measured
 * here: during a 3-epoch simulated run workerd answered nothing, not even /healthz, for ~40 s), so every
 * request has a timeout and idempotent ones (GET, and any call marked `retry`) are retried when it fires,
 * for up to `retryForMs` in all. A short GET timeout (5 s) means a poll sees the end of a busy stretch
 * within seconds instead of waiting out a long timeout.
 */

export class AdminApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
    readonly type: string | null = null,
  ) {
    super(message);
    this.name = "AdminApiError";
  }
}

export type RequestOptions = {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** A raw body (e.g. a stream), sent as is with `contentType`. */
  raw?: BodyInit;
  contentType?: string;
  timeoutMs?: number;
  /** Retry when the timeout fires (default: only GET). */
  retry?: boolean;
  /** Give up retrying after this long (default 5 minutes). */
  retryForMs?: number;
};

export type AdminClient = {
  readonly url: string;
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  get<T>(path: string, query?: RequestOptions["query"]): Promise<T>;
  post<T>(path: string, body?: unknown, options?: Omit<RequestOptions, "body">): Promise<T>;
  patch<T>(path: string, body: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
};

type ErrorBody = { error?: { message?: unknown; code?: unknown; type?: unknown } };

async function toError(res: Response, method: string, path: string): Promise<AdminApiError> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as ErrorBody;
    const e = parsed.error;
    if (e && typeof e.message === "string") {
      return new AdminApiError(
        e.message,
        res.status,
        typeof e.code === "string" ? e.code : null,
        typeof e.type === "string" ? e.type : null,
      );
    }
  } catch {
    // not JSON
  }
  const snippet = text.trim().split("\n")[0]?.slice(0, 200) ?? "";
  return new AdminApiError(`${method} ${path} → HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`, res.status);
}

export function adminClient(options: { url: string; token: string; timeoutMs?: number; retryForMs?: number }): AdminClient {
  const base = options.url.replace(/\/+$/, "");
  const request = async <T>(method: string, path: string, o: RequestOptions = {}): Promise<T> => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const target = `${base}/api${path}${qs.size ? `?${qs}` : ""}`;
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, accept: "application/json" };
    let body: BodyInit | undefined;
    if (o.raw !== undefined) {
      body = o.raw;
      if (o.contentType) headers["content-type"] = o.contentType;
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers["content-type"] = "application/json";
    }
    const retry = o.retry ?? method === "GET";
    const streaming = typeof ReadableStream !== "undefined" && body instanceof ReadableStream;
    const giveUpAt = Date.now() + (o.retryForMs ?? options.retryForMs ?? 300_000);
    for (;;) {
      let res: Response;
      try {
        res = await fetch(target, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(o.timeoutMs ?? options.timeoutMs ?? (method === "GET" ? 5_000 : 60_000)),
          ...(streaming ? { duplex: "half" as const } : {}),
        });
      } catch (error) {
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        if (timedOut && retry && Date.now() < giveUpAt) continue;
        if (timedOut) throw new AdminApiError(`${method} ${path}: no answer from ${base} in time`, 0, "timeout");
        const cause =
          error instanceof Error && error.cause instanceof Error
            ? error.cause.message
            : error instanceof Error
              ? error.message
              : String(error);
        throw new AdminApiError(`cannot reach ${base}: ${cause}`, 0, "unreachable");
      }
      if (!res.ok) throw await toError(res, method, path);
      const text = await res.text();
      return (text ? JSON.parse(text) : {}) as T;
    }
  };
  return {
    url: base,
    request,
    get: (path, query) => request("GET", path, { query }),
    post: (path, body, o) => request("POST", path, { ...o, body }),
    patch: (path, body) => request("PATCH", path, { body }),
    del: (path) => request("DELETE", path),
  };
}

/** Polls `fn` every `intervalMs` until `done(value)`; returns the last value. */
export async function pollUntil<T>(
  fn: () => Promise<T>,
  done: (value: T) => boolean,
  onValue?: (value: T) => void,
  intervalMs = 500,
): Promise<T> {
  for (;;) {
    const value = await fn();
    onValue?.(value);
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// The response shapes come from the API's own schemas (src/contract), so the CLI cannot drift from the API.
export type {
  Agent,
  BuiltinDataset,
  CanaryChange,
  CanaryState,
  LiveMetrics,
  Dataset,
  Evaluation,
  EvaluationRecovery,
  Experience,
  FeedbackItem,
  LibraryDiff,
  LibraryVersion,
  LibraryVersionCreated,
  LibraryVersionRow,
  MintedKey,
  Promotion,
  ProxyKey,
  ResealReport,
  Run,
  RunRecovery,
  RunBatch,
  Sample,
  StageUsage,
} from "../src/contract";
import type { Run } from "../src/contract";

export const FINISHED = new Set(["completed", "failed", "cancelled", "errored", "terminated"]);
export const isFinished = (status: string) => FINISHED.has(status);

export const runTokens = (run: Pick<Run, "llm">) => run.llm.reduce((n, s) => n + (s.promptTokens ?? 0) + (s.completionTokens ?? 0), 0);
