import { createRoute, z } from "@hono/zod-openapi";
import { encryptSecret } from "../../auth/crypto";
import { newId } from "../../shared/ids";
import { partialHyperparamsSchema } from "../../core/hyperparams";
import { CAPTURE_OFF, captureConfigSchema, gateConfigSchema, scheduleConfigSchema } from "../../core/policies";
import { deleteAgent, findAgentByName, insertAgent, listAgents, updateAgent, type AgentRow, type NewAgentRow } from "../../db/agents";
import { db } from "../../db/client";
import { activeRunCount } from "../../db/runs";
import { agentChanged } from "../../serving/invalidate";
import { ApiError, conflict } from "../../shared/errors";
import { isSimulated } from "../../llm/upstream";
import { verifierSpecSchema } from "../../verifiers";
import { MAX_TURNS_DEFAULT, maxTurnsSchema, toolListSchema } from "../../tools/specs";
import { newRouter } from "../router";
import { agentSchema, listOf, type Agent } from "../../contract";
import { agentParam, errorResponses, json, requireAgent } from "./common";

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Upstream base URLs: http(s), or `sim://local[?knobs]` for the in-process simulated model. */
const baseUrlSchema = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === "http:" || u.protocol === "https:" || isSimulated(s);
    } catch {
      return false;
    }
  }, "must be an http(s) URL or sim://local");

const upstreamInput = z
  .object({
    baseUrl: baseUrlSchema,
    model: z.string().min(1).max(200),
    apiKey: z.string().min(1).max(4096).optional().openapi({ description: "Write-only; stored encrypted, never returned." }),
    apiKeySecret: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,63}$/)
      .optional()
      .openapi({ description: "Name of a Worker secret holding the key, instead of apiKey." }),
  })
  .strict();

const agentFields = {
  systemPrompt: z.string().max(100_000),
  objective: z.string().max(10_000).openapi({ description: "Learning objective used by the semantic-advantage prompts." }),
  verifier: verifierSpecSchema,
  trainingDefaults: partialHyperparamsSchema,
  allowedModels: z.array(z.string().min(1).max(200)).max(50),
  injectPosition: z.enum(["before", "after"]),
  allowVersionPin: z.boolean(),
  gate: gateConfigSchema.nullable().openapi({ description: "Gated promotion of finished runs; null: none" }),
  capture: captureConfigSchema.openapi({ description: "Capture proxied exchanges for feedback (off by default)" }),
  schedule: scheduleConfigSchema.nullable().openapi({ description: "Scheduled retraining; null: none" }),
  tools: toolListSchema.openapi({ description: "Tools of the agent's training and evaluation rollouts (docs/tools.md); [] for plain chat" }),
  maxTurns: maxTurnsSchema.openapi({ description: "Model replies per tool-using rollout (default 20)" }),
};

const createAgentSchema = z
  .object({
    name: z.string().regex(NAME, "lowercase letters, digits, '-' and '_', 1-63 characters, starting with a letter or digit"),
    upstream: upstreamInput,
    ...agentFields,
  })
  .partial({ systemPrompt: true, objective: true, verifier: true, trainingDefaults: true, allowedModels: true, injectPosition: true, allowVersionPin: true, gate: true, capture: true, schedule: true, tools: true, maxTurns: true })
  .strict()
  .openapi("AgentCreate");

const patchAgentSchema = z
  .object({ name: createAgentSchema.shape.name, upstream: upstreamInput.partial().strict(), ...agentFields })
  .partial()
  .strict()
  .openapi("AgentPatch");

/** The public view of an agent: the upstream key never leaves the database. */
export function agentView(row: AgentRow): Agent {
  return {
    id: row.id,
    name: row.name,
    upstream: {
      baseUrl: row.upstreamBaseUrl,
      model: row.upstreamModel,
      hasApiKey: row.upstreamKeyCipher !== null,
      apiKeySecret: row.upstreamKeySecret,
    },
    systemPrompt: row.systemPrompt,
    objective: row.objective,
    verifier: row.verifier,
    trainingDefaults: row.trainingDefaults,
    allowedModels: row.allowedModels,
    injectPosition: row.injectPosition,
    allowVersionPin: row.allowVersionPin,
    activeVersion: row.activeVersion,
    gate: row.gate,
    capture: row.capture ?? CAPTURE_OFF,
    schedule: row.schedule,
    tools: row.tools as Record<string, unknown>[],
    maxTurns: row.maxTurns,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

async function sealKey(apiKey: string | undefined, env: Env): Promise<string | undefined> {
  if (apiKey === undefined) return undefined;
  if (!env.ENCRYPTION_KEY) throw new ApiError(400, "cannot store an upstream apiKey: ENCRYPTION_KEY is not configured; use apiKeySecret", "encryption_unavailable");
  return encryptSecret(apiKey, env.ENCRYPTION_KEY);
}


export const agentsRouter = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["agents"],
      request: { body: { ...json(createAgentSchema), required: true } },
      responses: { 201: { description: "Created", ...json(agentSchema) }, ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const d = db(c.env.DB);
      if (await findAgentByName(d, body.name)) throw conflict(`an agent named '${body.name}' already exists`, "name_taken");
      const row: NewAgentRow = {
        id: newId("agt"),
        name: body.name,
        upstreamBaseUrl: body.upstream.baseUrl,
        upstreamModel: body.upstream.model,
        upstreamKeyCipher: (await sealKey(body.upstream.apiKey, c.env)) ?? null,
        upstreamKeySecret: body.upstream.apiKeySecret ?? null,
        systemPrompt: body.systemPrompt ?? "",
        objective: body.objective ?? "",
        verifier: body.verifier ?? { kind: "math" },
        trainingDefaults: body.trainingDefaults ?? {},
        allowedModels: body.allowedModels ?? [],
        injectPosition: body.injectPosition ?? "after",
        allowVersionPin: body.allowVersionPin ?? false,
        gate: body.gate ?? null,
        capture: body.capture ?? CAPTURE_OFF,
        schedule: body.schedule ?? null,
        tools: body.tools ?? [],
        maxTurns: body.maxTurns ?? MAX_TURNS_DEFAULT,
      };
      return c.json(agentView(await insertAgent(d, row)), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["agents"],
      responses: { 200: { description: "All agents", ...json(listOf(agentSchema)) }, ...errorResponses },
    }),
    async (c) => c.json({ data: (await listAgents(db(c.env.DB))).map(agentView) }, 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{agent}",
      tags: ["agents"],
      request: { params: agentParam },
      responses: { 200: { description: "The agent", ...json(agentSchema) }, ...errorResponses },
    }),
    async (c) => c.json(agentView(await requireAgent(c.env, c.req.valid("param").agent)), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{agent}",
      tags: ["agents"],
      request: { params: agentParam, body: { ...json(patchAgentSchema), required: true } },
      responses: { 200: { description: "Updated", ...json(agentSchema) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const body = c.req.valid("json");
      const d = db(c.env.DB);
      if (body.name && body.name !== agent.name && (await findAgentByName(d, body.name))) {
        throw conflict(`an agent named '${body.name}' already exists`, "name_taken");
      }
      const patch: Partial<NewAgentRow> = {
        name: body.name,
        upstreamBaseUrl: body.upstream?.baseUrl,
        upstreamModel: body.upstream?.model,
        upstreamKeyCipher: await sealKey(body.upstream?.apiKey, c.env),
        upstreamKeySecret: body.upstream?.apiKeySecret,
        systemPrompt: body.systemPrompt,
        objective: body.objective,
        verifier: body.verifier,
        trainingDefaults: body.trainingDefaults,
        allowedModels: body.allowedModels,
        injectPosition: body.injectPosition,
        allowVersionPin: body.allowVersionPin,
        gate: body.gate,
        capture: body.capture,
        schedule: body.schedule,
        tools: body.tools,
        maxTurns: body.maxTurns,
      };
      const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<NewAgentRow>;
      const updated = await updateAgent(d, agent.id, defined);
      agentChanged(agent.id);
      return c.json(agentView(updated), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{agent}",
      tags: ["agents"],
      request: { params: agentParam },
      responses: { 200: { description: "Deleted", ...json(z.object({ id: z.string(), deleted: z.literal(true) })) }, ...errorResponses },
    }),
    async (c) => {
      const agent = await requireAgent(c.env, c.req.valid("param").agent);
      const d = db(c.env.DB);
      if ((await activeRunCount(d, { agentId: agent.id })) > 0) throw conflict(`agent '${agent.name}' has a run in progress; cancel it first`, "run_in_progress");
      await deleteAgent(d, agent.id);
      agentChanged(agent.id);
      return c.json({ id: agent.id, deleted: true as const }, 200);
    },
  );
