import { z } from "@hono/zod-openapi";
import { partialHyperparamsSchema } from "../core/hyperparams";
import { captureConfigSchema, gateConfigSchema, scheduleConfigSchema } from "../core/policies";
import { verifierSpecSchema } from "../verifiers";

export const agentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    upstream: z.object({
      baseUrl: z.string(),
      model: z.string(),
      hasApiKey: z.boolean(),
      apiKeySecret: z.string().nullable(),
      format: z.enum(["openai", "anthropic"]),
    }),
    maxTokens: z.number().int().nullable(),
    systemPrompt: z.string(),
    objective: z.string(),
    verifier: verifierSpecSchema,
    trainingDefaults: partialHyperparamsSchema,
    allowedModels: z.array(z.string()),
    injectPosition: z.enum(["before", "after"]),
    allowVersionPin: z.boolean(),
    activeVersion: z.number().int().nullable(),
    gate: gateConfigSchema.nullable(),
    capture: captureConfigSchema,
    schedule: scheduleConfigSchema.nullable(),
    tools: z.array(z.record(z.string(), z.unknown())),
    maxTurns: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Agent");
export type Agent = z.infer<typeof agentSchema>;

export const proxyKeySchema = z
  .object({
    id: z.string(),
    agentId: z.string(),
    prefix: z.string(),
    name: z.string().nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    requestsPerMinute: z.number().int().nullable(),
    tokensPerDay: z.number().int().nullable(),
  })
  .openapi("ProxyKey");
export type ProxyKey = z.infer<typeof proxyKeySchema>;

export const mintedKeySchema = proxyKeySchema.extend({ key: z.string() }).openapi("MintedProxyKey");
export type MintedKey = z.infer<typeof mintedKeySchema>;
