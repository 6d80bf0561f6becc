import { createRoute, z } from "@hono/zod-openapi";
import { keyRing, sealWithRing } from "../../auth/keyRing";
import { newId } from "../../shared/ids";
import { partialHyperparamsSchema } from "../../core/hyperparams";
import { CAPTURE_OFF, captureConfigSchema, gateConfigSchema, scheduleConfigSchema } from "../../core/policies";
import { findAgentByName, insertAgent, listAgents, updateAgent, type AgentRow, type NewAgentRow } from "../../db/agents";
import { db } from "../../db/client";
import { activeRunCount } from "../../db/runs";
import { activeEvaluationCount, deleteAgentWithData } from "../../db/lifecycle";
import { sweepTexts, TEXT_SWEEP_OBJECTS_PER_REQUEST } from "../../db/textSweeps";
import { agentChanged } from "../../serving/invalidate";
import { ApiError, badRequest, conflict } from "../../shared/errors";
import { isLocalDevelopment } from "../../shared/env";
import { isSimulated, UPSTREAM_SECRET_NAME, UPSTREAM_SECRET_PREFIX } from "../../llm/upstream";
import { upstreamOrigin, upstreamUrlProblem } from "../../llm/urlPolicy";
import { verifierSpecSchema } from "../../verifiers";
import { MAX_TURNS_DEFAULT, maxTurnsSchema, toolListSchema, type ToolSpec } from "../../tools/specs";
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
  }, "must be an https URL or sim://local");

/** Printable ASCII without spaces: a CR or LF in a key would break (or split) every upstream request. */
const apiKeySchema = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces or line breaks");

const upstreamInput = z
  .object({
    baseUrl: baseUrlSchema,
    model: z.string().min(1).max(200),
    apiKey: apiKeySchema.nullable().optional().openapi({ description: "Write-only; stored encrypted, never returned. null removes it." }),
    apiKeySecret: z
      .string()
      .regex(UPSTREAM_SECRET_NAME, `must name a Worker secret starting with ${UPSTREAM_SECRET_PREFIX} (docs/security.md)`)
      .nullable()
      .optional()
      .openapi({
        description: `Name of a Worker secret holding the key, instead of apiKey; must start with ${UPSTREAM_SECRET_PREFIX}. null removes it.`,
      }),
    format: z
      .enum(["openai", "anthropic"])
      .optional()
      .openapi({ description: "Wire format of the upstream: openai (chat completions, responses; default) or anthropic (messages)" }),
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
  tools: toolListSchema.openapi({
    description: "Tools of the agent's training and evaluation rollouts (docs/tools.md); [] for plain chat",
  }),
  maxTurns: maxTurnsSchema.openapi({ description: "Model replies per tool-using rollout (default 20)" }),
  maxTokens: z.number().int().min(1).max(1_000_000).nullable().openapi({
    description: "Ceiling on a proxied request's output tokens: set when the request has none, lowered when above; null: none",
  }),
};

const createAgentSchema = z
  .object({
    name: z.string().regex(NAME, "lowercase letters, digits, '-' and '_', 1-63 characters, starting with a letter or digit"),
    upstream: upstreamInput,
    ...agentFields,
  })
  .partial({
    systemPrompt: true,
    objective: true,
    verifier: true,
    trainingDefaults: true,
    allowedModels: true,
    injectPosition: true,
    allowVersionPin: true,
    gate: true,
    capture: true,
    schedule: true,
    tools: true,
    maxTurns: true,
    maxTokens: true,
  })
  .strict()
  .openapi("AgentCreate");

const patchAgentSchema = z
  .object({ name: createAgentSchema.shape.name, upstream: upstreamInput.partial().strict(), ...agentFields })
  .partial()
  .strict()
  .openapi("AgentPatch");

/** A stored gate as the API shows it: one stored before gates had a kind reads as the labelled gate it is. */
function gateView(gate: AgentRow["gate"]): Agent["gate"] {
  if (gate === null) return null;
  const parsed = gateConfigSchema.safeParse(gate);
  return parsed.success ? parsed.data : gate;
}

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
      format: row.upstreamFormat,
    },
    maxTokens: row.maxTokens,
    systemPrompt: row.systemPrompt,
    objective: row.objective,
    verifier: row.verifier,
    trainingDefaults: row.trainingDefaults,
    allowedModels: row.allowedModels,
    injectPosition: row.injectPosition,
    allowVersionPin: row.allowVersionPin,
    activeVersion: row.activeVersion,
    gate: gateView(row.gate),
    capture: row.capture ?? CAPTURE_OFF,
    schedule: row.schedule,
    tools: row.tools as Record<string, unknown>[],
    maxTurns: row.maxTurns,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The key sealed for this agent (bound to its id); null clears it; undefined leaves it as it is. */
async function sealKey(apiKey: string | null | undefined, env: Env, agentId: string): Promise<string | null | undefined> {
  if (apiKey === undefined || apiKey === null) return apiKey;
  const ring = await keyRing(env);
  if (!ring)
    throw new ApiError(
      400,
      "cannot store an upstream apiKey: ENCRYPTION_KEY is not configured; use apiKeySecret",
      "encryption_unavailable",
    );
  return sealWithRing(apiKey, agentId, ring);
}

function checkBaseUrl(env: Env, baseUrl: string): void {
  const problem = upstreamUrlProblem(baseUrl, isLocalDevelopment(env));
  if (problem) throw badRequest(`upstream.baseUrl ${problem}`, "invalid_upstream_url", "upstream.baseUrl");
}

/** Tool URLs (HTTP tools, MCP servers) follow the same policy as upstream base URLs (docs/tools.md). */
function checkToolUrls(env: Env, tools: readonly ToolSpec[] | undefined): void {
  for (const [i, tool] of (tools ?? []).entries()) {
    if (tool.type === "code") continue;
    const problem = upstreamUrlProblem(tool.url, isLocalDevelopment(env));
    if (problem)
      throw badRequest(
        `tools.${i}.url ${problem.replace("sim://local", "an MCP or HTTP tool server").replace(" or an MCP", ", an MCP")}`,
        "invalid_tool_url",
        `tools.${i}.url`,
      );
  }
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
      checkBaseUrl(c.env, body.upstream.baseUrl);
      checkToolUrls(c.env, body.tools);
      if (await findAgentByName(d, body.name)) throw conflict(`an agent named '${body.name}' already exists`, "name_taken");
      const id = newId("agt");
      const row: NewAgentRow = {
        id,
        name: body.name,
        upstreamBaseUrl: body.upstream.baseUrl,
        upstreamModel: body.upstream.model,
        upstreamKeyCipher: (await sealKey(body.upstream.apiKey, c.env, id)) ?? null,
        upstreamKeySecret: body.upstream.apiKeySecret ?? null,
        upstreamFormat: body.upstream.format ?? "openai",
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
        maxTokens: body.maxTokens ?? null,
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
      const up = body.upstream;
      if (up?.baseUrl !== undefined) checkBaseUrl(c.env, up.baseUrl);
      checkToolUrls(c.env, body.tools);
      // A stored key belongs to the origin it was given for: moving to another origin needs it again.
      const keyGiven = up?.apiKey !== undefined || up?.apiKeySecret !== undefined;
      const hasKey = agent.upstreamKeyCipher !== null || agent.upstreamKeySecret !== null;
      if (up?.baseUrl !== undefined && upstreamOrigin(up.baseUrl) !== upstreamOrigin(agent.upstreamBaseUrl) && hasKey && !keyGiven) {
        throw badRequest(
          "upstream.baseUrl moves to another origin: give upstream.apiKey (or apiKeySecret) again for it, or null to remove the stored key",
          "upstream_key_required",
          "upstream.apiKey",
        );
      }
      // One key source at a time: setting either one replaces the other.
      const cipher = await sealKey(up?.apiKey, c.env, agent.id);
      const patch: Partial<NewAgentRow> = {
        name: body.name,
        upstreamBaseUrl: up?.baseUrl,
        upstreamModel: up?.model,
        upstreamKeyCipher: cipher !== undefined ? cipher : up?.apiKeySecret ? null : undefined,
        upstreamKeySecret: up?.apiKeySecret !== undefined ? up.apiKeySecret : up?.apiKey ? null : undefined,
        upstreamFormat: up?.format,
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
        maxTokens: body.maxTokens,
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
      if ((await activeRunCount(d, { agentId: agent.id })) > 0)
        throw conflict(`agent '${agent.name}' has a run in progress; cancel it first`, "run_in_progress");
      if ((await activeEvaluationCount(d, { agentId: agent.id })) > 0)
        throw conflict(`agent '${agent.name}' has an evaluation in progress; wait for it to finish`, "evaluation_in_progress");
      const prefix = await deleteAgentWithData(d, agent.id);
      agentChanged(agent.id);
      // The agent's texts in R2 go now, up to a bound; the cron trigger deletes whatever is left.
      await sweepTexts(d, c.env.TEXTS, Date.now(), TEXT_SWEEP_OBJECTS_PER_REQUEST, [prefix]);
      return c.json({ id: agent.id, deleted: true as const }, 200);
    },
  );
