import { z } from "@hono/zod-openapi";
import { findAgent, type AgentRow } from "../../db/agents";
import { db } from "../../db/client";
import { notFound } from "../../shared/errors";

export const errorSchema = z
  .object({
    error: z.object({ message: z.string(), type: z.string(), code: z.string().nullable(), param: z.string().nullable() }),
  })
  .openapi("Error");

const errorContent = { content: { "application/json": { schema: errorSchema } } };

/** Error statuses every admin route may answer with. */
export const errorResponses = {
  400: { description: "Invalid request", ...errorContent },
  401: { description: "Missing or invalid admin token", ...errorContent },
  404: { description: "Not found", ...errorContent },
  409: { description: "Conflict with the stored state", ...errorContent },
} as const;

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
