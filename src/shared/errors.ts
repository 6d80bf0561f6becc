import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { describeError } from "./logging";

/** The OpenAI error shape, used for every error this service produces. */
export type ErrorBody = { error: { message: string; type: string; code: string | null; param: string | null } };

const TYPE_BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  409: "conflict_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  422: "invalid_request_error",
  429: "rate_limit_error",
};

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Sent as `Retry-After` (429s): when trying again can succeed. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = "invalid_request", param: string | null = null) =>
  new ApiError(400, message, code, param);
export const notFound = (what: string, id: string) => new ApiError(404, `${what} '${id}' not found`, "not_found");
export const conflict = (message: string, code = "conflict") => new ApiError(409, message, code);

export function errorBody(status: number, message: string, code: string | null, param: string | null = null): ErrorBody {
  return { error: { message, type: TYPE_BY_STATUS[status] ?? (status >= 500 ? "server_error" : "invalid_request_error"), code, param } };
}

/**
 * The single error handler: known errors keep their status and message; anything else becomes a 500
 * that names only the request id, so no stack trace, SQL or secret reaches a client.
 */
export function handleError(err: Error, c: Context): Response {
  // Anthropic clients (POST /v1/messages) get Anthropic's error shape, so their SDK raises its typed errors.
  const shape = c.get("errorShape") === "anthropic" ? anthropicErrorBody : errorBody;
  if (err instanceof ApiError) {
    if (err.retryAfterSeconds !== null) c.header("retry-after", String(err.retryAfterSeconds));
    return c.json(shape(err.status, err.message, err.code, err.param), err.status);
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    return c.json(shape(status, err.message || "request failed", null), status);
  }
  const requestId = c.get("requestId") ?? "unknown";
  console.error(`request ${requestId} ${c.req.method} ${c.req.path} failed: ${describeError(err, c.env as Env | undefined)}`);
  return c.json(shape(500, `internal error (request id ${requestId})`, "internal_error"), 500);
}

/** Anthropic's error types by status (its API reference, "Errors"). */
const ANTHROPIC_TYPE_BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  529: "overloaded_error",
};

/** The Anthropic Messages API's error shape; our code rides along in `error.code` (Anthropic clients ignore it). */
export type AnthropicErrorBody = { type: "error"; error: { type: string; message: string; code: string | null; param: string | null } };

export function anthropicErrorBody(status: number, message: string, code: string | null, param: string | null = null): AnthropicErrorBody {
  return {
    type: "error",
    error: { type: ANTHROPIC_TYPE_BY_STATUS[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"), message, code, param },
  };
}

/** A job (run, evaluation, protocol) refused for a reason the caller can fix; nothing was stored. */
export class JobRefusedError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** The Workflow engine did not take a job's instance; the job is recorded as failed. */
export class WorkflowStartError extends Error {}

/** A step that cannot succeed on retry (its input is gone): the Workflow fails it at once (src/durable/failFast.ts). */
export class PermanentStepError extends Error {}
