import { z } from "@hono/zod-openapi";
import { intervalSchema } from "./common";
import { canaryFiguresSchema, canaryRulesSchema } from "./canaryFigures";
import { promotionSchema } from "./promotions";

/** A canary, running or ended (docs/serving.md, "Canary"). */
export const canarySchema = z
  .object({
    id: z.string(),
    agentId: z.string(),
    version: z.number().int().openapi({ description: "The candidate version" }),
    baseVersion: z.number().int().nullable().openapi({ description: "The active version it is compared with (null: no library)" }),
    percent: z.number(),
    stickyBy: z.string().openapi({ description: "'key' or 'header:<name>'" }),
    rules: canaryRulesSchema,
    status: z.enum(["running", "promoted", "rolled_back", "ended"]),
    startedBy: z.enum(["manual", "gate", "schedule"]),
    runId: z.string().nullable(),
    reason: z.string().nullable().openapi({ description: "Why it ended" }),
    createdAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi("Canary");
export type Canary = z.infer<typeof canarySchema>;

/** What the decision rule says about a running canary now. */
export const canaryVerdictSchema = z
  .object({ action: z.enum(["promote", "rollback", "wait"]), reason: z.string(), figures: canaryFiguresSchema })
  .openapi("CanaryVerdict");

export const canaryStateSchema = z
  .object({
    canary: canarySchema.nullable().openapi({ description: "The running canary, if any" }),
    verdict: canaryVerdictSchema.nullable().openapi({ description: "The rule applied to the running canary's figures now" }),
    history: z.array(canarySchema).openapi({ description: "The agent's canaries, newest first" }),
  })
  .openapi("CanaryState");
export type CanaryState = z.infer<typeof canaryStateSchema>;

/** A canary started or ended, with the decision recorded at /promotions. */
export const canaryChangeSchema = z.object({ canary: canarySchema, decision: promotionSchema }).openapi("CanaryChange");
export type CanaryChange = z.infer<typeof canaryChangeSchema>;

const liveFiguresShape = {
  requests: z.number().int(),
  errors: z.number().int().openapi({ description: "Replies with status ≥ 400 other than 499 (client went away)" }),
  errorRate: z.number().nullable(),
  errorCi: intervalSchema.nullable(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
  feedback: z.number().int().openapi({ description: "Requests with a reward from /v1/feedback (the latest one counts)" }),
  feedbackRate: z.number().nullable(),
  feedbackCi: intervalSchema.nullable(),
  meanReward: z.number().nullable(),
  rewardCi: intervalSchema.nullable(),
};
export const liveFiguresSchema = z.object(liveFiguresShape).openapi("LiveFigures");

export const versionLiveSchema = z
  .object({
    version: z.number().int().nullable().openapi({ description: "null: served without a library" }),
    label: z.string(),
    arm: z.enum(["candidate", "active"]).nullable().openapi({ description: "Its arm in the canary shown, if any" }),
    overall: liveFiguresSchema,
    buckets: z.array(z.object({ start: z.string(), ...liveFiguresShape })),
  })
  .openapi("VersionLive");

export const liveMetricsSchema = z
  .object({
    agentId: z.string(),
    since: z.string(),
    until: z.string(),
    bucketSeconds: z.number().int(),
    canaryId: z.string().nullable().openapi({ description: "Only requests this canary assigned, when given" }),
    versions: z.array(versionLiveSchema),
    canary: canarySchema.nullable().openapi({ description: "The running canary (or the one asked for)" }),
    verdict: canaryVerdictSchema.nullable(),
  })
  .openapi("LiveMetrics");
export type LiveMetrics = z.infer<typeof liveMetricsSchema>;
