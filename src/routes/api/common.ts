import { z } from "@hono/zod-openapi";
import { errorSchema } from "../../contract";
import { findAgent, type AgentRow } from "../../db/agents";
import { db } from "../../db/client";
import { ApiError, badRequest, JobRefusedError, notFound, WorkflowStartError } from "../../shared/errors";

/** The route helpers and shared request schemas of the admin API. */

/** A JSON body or response of the given schema, for `createRoute`. */
export const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });

const errorContent = json(errorSchema);

/** Error statuses every admin route may answer with. */
export const errorResponses = {
  400: { description: "Invalid request", ...errorContent },
  401: { description: "Missing or invalid admin token", ...errorContent },
  404: { description: "Not found", ...errorContent },
  409: { description: "Conflict with the stored state", ...errorContent },
  413: { description: "Request body too large", ...errorContent },
} as const;

/** Errors of routes that start a Workflow: besides the usual ones, the engine may be unavailable. */
export const jobErrorResponses = {
  ...errorResponses,
  422: { description: "The Idempotency-Key was used for a different request", ...errorContent },
  503: { description: "The Workflow engine did not take the job; nothing was started", ...errorContent },
} as const;

/** Path parameter naming an agent by id or name. */
export const agentParam = z.object({ agent: z.string().min(1).max(200).openapi({ description: "Agent id or name" }) });

export async function requireAgent(env: Env, ref: string): Promise<AgentRow> {
  const agent = await findAgent(db(env.DB), ref);
  if (!agent) throw notFound("agent", ref);
  return agent;
}

/** Query of list routes that can be narrowed to one agent: `?agent=<id or name>&limit=`. */
export const agentListQuery = z.object({ agent: z.string().optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });

/** The agent id a list is narrowed to (404 for an unknown agent), or undefined for all agents. */
export async function agentFilter(env: Env, ref: string | undefined): Promise<string | undefined> {
  return ref ? (await requireAgent(env, ref)).id : undefined;
}

/**
 * Maps a failure to start a job: a refusal stays a 400, an API error keeps its status, the Workflow
 * engine's own failure is a 503 the client may retry, and anything else (D1 included) is rethrown
 * for the error handler to answer 500.
 */
export function startJobError(error: unknown, what: string): Error {
  if (error instanceof JobRefusedError) return badRequest(error.message, error.code, error.param);
  if (error instanceof ApiError) return error;
  if (error instanceof WorkflowStartError)
    return new ApiError(503, `could not start the ${what} Workflow; try again`, "workflow_unavailable");
  return error instanceof Error ? error : new Error(String(error));
}
