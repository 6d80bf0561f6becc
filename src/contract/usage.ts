import { z } from "@hono/zod-openapi";

export const usageRowSchema = z
  .object({
    requestId: z.string(),
    keyId: z.string().nullable(),
    model: z.string().nullable(),
    version: z.number().int().nullable(),
    status: z.number().int(),
    stream: z.boolean(),
    promptTokens: z.number().nullable(),
    completionTokens: z.number().nullable(),
    cachedTokens: z.number().nullable(),
    latencyMs: z.number(),
    ttfbMs: z.number().nullable(),
    surface: z.enum(["chat", "responses", "messages"]),
    usageEstimated: z.boolean(),
    createdAt: z.string(),
  })
  .openapi("UsageRow");

export const usageTotalsSchema = z
  .object({
    requests: z.number(),
    errors: z.number(),
    promptTokens: z.number(),
    completionTokens: z.number(),
    cachedTokens: z.number(),
    avgLatencyMs: z.number().nullable(),
    avgTtfbMs: z.number().nullable(),
  })
  .openapi("UsageTotals");

export const usageSchema = z.object({ agentId: z.string(), totals: usageTotalsSchema, data: z.array(usageRowSchema) }).openapi("Usage");
export type Usage = z.infer<typeof usageSchema>;

export const servingStatsSchema = z
  .object({
    d1: z.object({ roundTrips: z.number(), reads: z.number(), writes: z.number(), batches: z.number() }),
    caches: z.object({ keys: z.number(), agents: z.number(), pinnedVersions: z.number() }),
    usageLog: z.object({ buffered: z.number(), dropped: z.number() }),
  })
  .openapi("ServingStats");
