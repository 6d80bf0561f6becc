import { z } from "zod";
import type { Run } from "../contract";
import { runCost } from "../core/cost";
import { batchesPerSegment, runPlan } from "../core/stepBudget";
import { db } from "../db/client";
import { tokensByBatch } from "../db/batchTokens";
import { usageByStage } from "../db/llmCalls";
import type { RunRow } from "../db/runs";
import { runBatches, runCounts } from "../db/training";
import { runParamsSchema } from "./context";

const runStepsSchema = z.object({
  run: z.number().int(),
  segments: z.number().int(),
  lanes: z.number().int(),
  maxPerInstance: z.number().int(),
});
/** Workflow steps a run's instances used: its own, all its segments', all its lanes', and the most any one took. */
export type RunSteps = z.infer<typeof runStepsSchema>;

/** What the run's Workflow records as it goes (runs.progress); read tolerantly, as older rows may lack fields. */
const storedProgressSchema = z.object({
  samples: z.number().int().catch(0),
  epoch: z.number().int().nullable().catch(null),
  batch: z.number().int().nullable().catch(null),
  steps: runStepsSchema.nullable().catch(null),
});

/** A run as the admin API shows it: status, progress, per-batch metrics, usage and cost. */
export async function runView(env: Env, run: RunRow): Promise<Run> {
  const d = db(env.DB);
  const params = runParamsSchema.parse(run.params);
  const [counts, batches, usage, tokens] = await Promise.all([
    runCounts(d, run.id),
    runBatches(d, run.id),
    usageByStage(d, run.id),
    tokensByBatch(d, run.id),
  ]);
  const tokensOf = (epoch: number, batch: number) => tokens.find((t) => t.epoch === epoch && t.batch === batch);
  const progress = storedProgressSchema.parse(run.progress);
  const samples = progress.samples;
  const opsByKind: Record<string, number> = {};
  for (const b of batches) for (const [k, v] of Object.entries(b.opsByKind)) opsByKind[k] = (opsByKind[k] ?? 0) + v;
  const groupsDone = counts.groupsKept + counts.groupsSkipped + counts.groupsDropped;
  return {
    id: run.id,
    agentId: run.agentId,
    datasetId: run.datasetId,
    kind: run.kind,
    status: run.status,
    reason: run.reason,
    error: run.error,
    params,
    fromVersion: run.fromVersion,
    latestVersion: run.latestVersion,
    progress: {
      epoch: progress.epoch,
      batch: progress.batch,
      epochs: params.epochs,
      batchesPerEpoch: Math.ceil(samples / params.batchSize),
      groupsDone,
      groupsTotal: samples * params.epochs,
      rolloutsDone: counts.rollouts,
      rolloutsTotal: samples * params.epochs * params.groupSize,
      steps: progress.steps,
    },
    plan: runPlan(samples, params, params.segmentBatches ?? batchesPerSegment(params)),
    groups: { kept: counts.groupsKept, skipped: counts.groupsSkipped, dropped: counts.groupsDropped },
    batches: batches.map((b) => ({
      epoch: b.epoch,
      batch: b.batch,
      status: b.status,
      meanAtG: b.meanAtG,
      passAtG: b.passAtG,
      avgToolCalls: b.avgToolCalls,
      promptTokens: tokensOf(b.epoch, b.batch)?.promptTokens ?? 0,
      completionTokens: tokensOf(b.epoch, b.batch)?.completionTokens ?? 0,
      groupsKept: b.groupsKept,
      groupsSkipped: b.groupsSkipped,
      groupsDropped: b.groupsDropped,
      operations: b.opsByKind,
      version: b.version,
      reason: b.reason,
    })),
    operations: opsByKind,
    llm: usage,
    cost: runCost(usage, env),
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}
