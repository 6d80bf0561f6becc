import { createRoute, z } from "@hono/zod-openapi";
import { partialHyperparamsSchema } from "../../core/hyperparams";
import { runCost } from "../../core/cost";
import { db } from "../../db/client";
import { findDataset } from "../../db/datasets";
import { findVersion } from "../../db/libraryVersions";
import { usageByStage } from "../../db/llmCalls";
import { findRun, finishRun, listRuns, type RunRow } from "../../db/runs";
import { listRollouts, runBatches, runCounts } from "../../db/training";
import { ApiError, badRequest, conflict, notFound } from "../../errors";
import { runParamsSchema } from "../../training/context";
import { recoverRun } from "../../training/recover";
import { RunRejectedError, startRun } from "../../training/startRun";
import { newRouter } from "../router";
import { agentFilter, agentListQuery, errorResponses, requireAgent } from "./common";

const createRunSchema = partialHyperparamsSchema
  .extend({
    agent: z.string().min(1).max(200),
    dataset: z.string().min(1).max(200),
    seed: runParamsSchema.shape.seed.optional(),
    budgetTokens: z.number().int().positive().optional(),
    timeoutMs: runParamsSchema.shape.timeoutMs.optional(),
    fromVersion: z
      .number()
      .int()
      .min(0)
      .optional()
      .openapi({ description: "Warm start; default the agent's active version, or empty (0)." }),
  })
  .strict()
  .openapi("RunCreate");

const runParam = z.object({ run: z.string().min(1).max(100) });
const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });
const runViewSchema = z.record(z.string(), z.unknown()).openapi("Run");

async function runView(env: Env, run: RunRow) {
  const d = db(env.DB);
  const params = runParamsSchema.parse(run.params);
  const [counts, batches, usage] = await Promise.all([runCounts(d, run.id), runBatches(d, run.id), usageByStage(d, run.id)]);
  const samples = Number(run.progress.samples ?? 0);
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
      epoch: run.progress.epoch ?? null,
      batch: run.progress.batch ?? null,
      epochs: params.epochs,
      batchesPerEpoch: Math.ceil(samples / params.batchSize),
      groupsDone,
      groupsTotal: samples * params.epochs,
      rolloutsDone: counts.rollouts,
      rolloutsTotal: samples * params.epochs * params.groupSize,
      steps: run.progress.steps ?? null,
    },
    groups: { kept: counts.groupsKept, skipped: counts.groupsSkipped, dropped: counts.groupsDropped },
    batches: batches.map((b) => ({
      epoch: b.epoch,
      batch: b.batch,
      status: b.status,
      meanAtG: b.meanAtG,
      passAtG: b.passAtG,
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

export const runsRouter = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["runs"],
      request: { body: { ...json(createRunSchema), required: true } },
      responses: {
        201: { description: "Run created and queued", ...json(z.object({ id: z.string(), status: z.string() })) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const d = db(c.env.DB);
      const agent = await requireAgent(c.env, body.agent);
      const dataset = await findDataset(d, body.dataset);
      if (!dataset) throw notFound("dataset", body.dataset);
      if (dataset.sampleCount === 0) throw badRequest(`dataset '${dataset.name}' is empty`, "empty_dataset", "dataset");
      const fromVersion = body.fromVersion ?? agent.activeVersion ?? 0;
      if (fromVersion !== 0 && !(await findVersion(d, agent.id, fromVersion))) throw notFound("library version", String(fromVersion));
      const { agent: _a, dataset: _d, seed, budgetTokens, timeoutMs, fromVersion: _f, ...overrides } = body;
      let run;
      try {
        run = await startRun(c.env, { agent, dataset, overrides, seed, budgetTokens, timeoutMs, fromVersion, kind: "manual" });
      } catch (error) {
        if (error instanceof RunRejectedError) throw badRequest(error.message, "too_many_steps", "epochs");
        throw new ApiError(503, "could not start the training Workflow; try again", "workflow_unavailable");
      }
      return c.json({ id: run.id, status: run.status }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["runs"],
      request: { query: agentListQuery },
      responses: { 200: { description: "Runs, newest first", ...json(z.object({ data: z.array(runViewSchema) })) }, ...errorResponses },
    }),
    async (c) => {
      const { agent: ref, limit } = c.req.valid("query");
      const agentId = await agentFilter(c.env, ref);
      const rows = await listRuns(db(c.env.DB), { agentId, limit });
      return c.json({ data: await Promise.all(rows.map((r) => runView(c.env, r))) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{run}",
      tags: ["runs"],
      request: { params: runParam },
      responses: { 200: { description: "Status, progress, metrics and usage", ...json(runViewSchema) }, ...errorResponses },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const run = await findRun(db(c.env.DB), id);
      if (!run) throw notFound("run", id);
      return c.json(await runView(c.env, run), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{run}/cancel",
      tags: ["runs"],
      request: { params: runParam },
      responses: {
        200: { description: "Cancelled; versions already made are kept", ...json(z.object({ id: z.string(), status: z.string() })) },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const d = db(c.env.DB);
      const run = await findRun(d, id);
      if (!run) throw notFound("run", id);
      if (run.status !== "queued" && run.status !== "running") throw conflict(`run ${id} is already ${run.status}`, "run_finished");
      // The run stops at its next checkpoint; groups in flight see the flag and stop paying for calls.
      await finishRun(d, id, "cancelled", { reason: "cancelled by request" });
      return c.json({ id, status: "cancelled" }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{run}/recover",
      tags: ["runs"],
      request: { params: runParam },
      responses: {
        200: {
          description:
            "Recovered the run's Workflow instances: live ones nudged (pause, then resume), missing group instances created, ended ones restarted or their reports re-sent",
          ...json(
            z.object({
              id: z.string(),
              run: z.string(),
              groups: z.number(),
              recreated: z.number(),
              restarted: z.number(),
              reports: z.number(),
            }),
          ),
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const run = await findRun(db(c.env.DB), id);
      if (!run) throw notFound("run", id);
      if (run.status !== "queued" && run.status !== "running") throw conflict(`run ${id} is already ${run.status}`, "run_finished");
      return c.json({ id, ...(await recoverRun(c.env, id)) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{run}/rollouts",
      tags: ["runs"],
      request: {
        params: runParam,
        query: z.object({
          epoch: z.coerce.number().int().min(1).optional(),
          batch: z.coerce.number().int().min(0).optional(),
          sample: z.coerce.number().int().min(0).optional(),
          offset: z.coerce.number().int().min(0).default(0),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: {
        200: {
          description: "Rollouts with prompt version, response, reward, critique and summary",
          ...json(z.object({ data: z.array(z.record(z.string(), z.unknown())) })),
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { run: id } = c.req.valid("param");
      const d = db(c.env.DB);
      if (!(await findRun(d, id))) throw notFound("run", id);
      return c.json({ data: await listRollouts(d, id, c.req.valid("query")) }, 200);
    },
  );
