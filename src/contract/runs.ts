import { z } from "@hono/zod-openapi";
import { hyperparamsSchema } from "../core/hyperparams";
import { operationSchema } from "../core/operations";

/** Tokens and calls of one stage of a run or evaluation (rollout, summary, advantage, …). */
export const stageUsageSchema = z
  .object({
    stage: z.string(),
    calls: z.number(),
    attempts: z.number(),
    promptTokens: z.number(),
    completionTokens: z.number(),
    cachedTokens: z.number(),
  })
  .openapi("StageUsage");
export type StageUsage = z.infer<typeof stageUsageSchema>;

export const costSchema = z
  .object({ usd: z.number(), promptPerMTok: z.number(), completionPerMTok: z.number() })
  .nullable()
  .openapi("Cost", { description: "Estimated spend; null when prices are not configured" });

export const runBatchSchema = z
  .object({
    epoch: z.number().int(),
    batch: z.number().int(),
    status: z.string(),
    meanAtG: z.number().nullable(),
    passAtG: z.number().nullable(),
    avgToolCalls: z.number().openapi({ description: "Average tool calls per rollout of the batch" }),
    promptTokens: z.number().openapi({ description: "Prompt tokens of the batch's calls: its groups' and its update's" }),
    completionTokens: z.number().openapi({ description: "Completion tokens of the batch's calls" }),
    groupsKept: z.number().int(),
    groupsSkipped: z.number().int(),
    groupsDropped: z.number().int(),
    operations: z.record(z.string(), z.number()),
    version: z.number().int().nullable(),
    reason: z.string().nullable(),
  })
  .openapi("RunBatch");
export type RunBatch = z.infer<typeof runBatchSchema>;

export const runParamsViewSchema = hyperparamsSchema
  .extend({
    seed: z.number().int(),
    budgetTokens: z.number().int().nullable(),
    timeoutMs: z.number().int(),
    tools: z.array(z.record(z.string(), z.unknown())),
    mcpTools: z
      .array(
        z.object({ server: z.number().int(), name: z.string(), description: z.string(), parameters: z.record(z.string(), z.unknown()) }),
      )
      .openapi({
        description: "MCP tools listed when the run started (server: index of its mcp spec in tools); every rollout offers these",
      }),
    maxTurns: z.number().int(),
    model: z.string().optional().openapi({ description: "The agent's upstream model when the run started; its versions record it" }),
    reflectionToolChars: z.number().int(),
    segmentBatches: z.number().int().optional().openapi({ description: "Batches per segment instance, fixed when the run started" }),
  })
  .openapi("RunParams");

const instancePlanSchema = z.object({
  instances: z.number().int(),
  maxSteps: z.number().int().openapi({ description: "The most Workflow steps any instance of this kind is planned to take" }),
});

/** How a run is split across Workflow instances, and the steps each takes (src/core/stepBudget.ts). */
export const runPlanSchema = z
  .object({
    limit: z.number().int().openapi({ description: "Steps allowed per Workflow instance" }),
    reserve: z.number().int().openapi({ description: "Steps each instance keeps free for time-outs and retries" }),
    run: instancePlanSchema.openapi({ description: "The run's own instance: start, two steps per segment, finish, gate" }),
    segments: instancePlanSchema
      .extend({
        batchesEach: z.number().int().openapi({ description: "Batches a segment runs (the last of an epoch may run fewer)" }),
        perEpoch: z.number().int(),
      })
      .openapi({
        description: "Segments: consecutive batches of one epoch; per batch a checkpoint, a spawn, one wait per lane, an update",
      }),
    lanes: instancePlanSchema
      .extend({ perBatch: z.number().int() })
      .openapi({ description: "Lanes: one per group in flight; each runs its share of a batch's groups, one step per group" }),
    totalSteps: z.number().int(),
  })
  .openapi("RunPlan");
export type RunPlanView = z.infer<typeof runPlanSchema>;

/** The reply to POST /api/runs: the queued run and its plan. */
export const runCreatedSchema = z.object({ id: z.string(), status: z.string(), plan: runPlanSchema }).openapi("RunCreated");

export const runSchema = z
  .object({
    id: z.string(),
    agentId: z.string(),
    datasetId: z.string(),
    kind: z.string(),
    status: z.string(),
    reason: z.string().nullable(),
    error: z.string().nullable(),
    params: runParamsViewSchema,
    fromVersion: z.number().int().nullable(),
    latestVersion: z.number().int().nullable(),
    progress: z.object({
      epoch: z.number().int().nullable(),
      batch: z.number().int().nullable(),
      epochs: z.number().int(),
      batchesPerEpoch: z.number().int(),
      groupsDone: z.number().int(),
      groupsTotal: z.number().int(),
      rolloutsDone: z.number().int(),
      rolloutsTotal: z.number().int(),
      steps: z
        .object({ run: z.number().int(), segments: z.number().int(), lanes: z.number().int(), maxPerInstance: z.number().int() })
        .nullable()
        .openapi({ description: "Workflow steps the run's instances used, recorded when it ended (null before)" }),
    }),
    plan: runPlanSchema,
    groups: z.object({ kept: z.number().int(), skipped: z.number().int(), dropped: z.number().int() }),
    batches: z.array(runBatchSchema),
    operations: z.record(z.string(), z.number()),
    llm: z.array(stageUsageSchema),
    cost: costSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Run");
export type Run = z.infer<typeof runSchema>;

export const rolloutSchema = z
  .object({
    runId: z.string(),
    epoch: z.number().int(),
    batch: z.number().int(),
    sampleIdx: z.number().int(),
    rolloutIdx: z.number().int(),
    promptVersion: z.number().int(),
    response: z.string(),
    reward: z.number(),
    critique: z.string().nullable(),
    summary: z.string().nullable(),
    messages: z.array(z.record(z.string(), z.unknown())).nullable().openapi({
      description: "Trajectory of a tool-using rollout (OpenAI messages: assistant tool_calls, tool results); null for plain rollouts",
    }),
    toolCalls: z.number().int(),
  })
  .openapi("Rollout");
export type Rollout = z.infer<typeof rolloutSchema>;

export const groupSchema = z
  .object({
    runId: z.string(),
    epoch: z.number().int(),
    batch: z.number().int(),
    sampleIdx: z.number().int(),
    status: z.enum(["kept", "skipped", "dropped"]),
    meanReward: z.number(),
    passed: z.boolean(),
    advantage: z.string().nullable().openapi({ description: "The group advantage reply: why the better rollouts won" }),
    experiences: z.array(z.object({ name: z.string(), text: z.string() })).openapi({ description: "Experiences the group extracted" }),
    operations: z.array(operationSchema).openapi({ description: "Operations the group proposed against the pre-batch library" }),
    reason: z.string().nullable(),
  })
  .openapi("Group");
export type Group = z.infer<typeof groupSchema>;

export const recoverySchema = z
  .object({
    id: z.string(),
    run: z.string().openapi({ description: "What was done to the run's instance" }),
    segments: z.number().int().openapi({ description: "Live segment instances nudged" }),
    lanes: z.number().int().openapi({ description: "Live lane instances nudged" }),
    recreated: z.number().int().openapi({ description: "Segment and lane instances that were never created, created now" }),
    restarted: z.number().int().openapi({ description: "Ended lane or segment instances without an outcome, restarted" }),
    reports: z.number().int().openapi({ description: "Reports of ended lane or segment instances re-sent to their parent" }),
  })
  .openapi("RunRecovery");
export type RunRecovery = z.infer<typeof recoverySchema>;

export const recoveredSchema = z
  .object({ kind: z.enum(["run", "evaluation"]), id: z.string(), action: z.string().openapi({ description: "What was done, in words" }) })
  .openapi("Recovered");

export const runStorageSchema = z
  .object({
    id: z.string(),
    d1: z.object({
      rows: z.number().int().openapi({ description: "Rows the run owns: rollouts, groups, batches, LLM calls and tool results" }),
      inlineTextBytes: z.number().int().openapi({ description: "Bytes of text those rows hold inline (below TEXT_INLINE_MAX_BYTES)" }),
      textRefs: z.number().int().openapi({ description: "Texts those rows keep in R2, by reference" }),
    }),
    r2: z.object({
      prefix: z.string().openapi({ description: "Key prefix of the run's objects in the TEXTS bucket" }),
      objects: z.number().int(),
      bytes: z.number().int(),
      complete: z.boolean().openapi({ description: "False when listing stopped at its bound: the counts are then lower bounds" }),
    }),
  })
  .openapi("RunStorage");
export type RunStorage = z.infer<typeof runStorageSchema>;
