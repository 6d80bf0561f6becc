import { conflict, JobRefusedError, WorkflowStartError } from "../shared/errors";
import { newId } from "../shared/ids";
import { partialHyperparamsSchema, resolveHyperparams, type PartialHyperparams } from "../core/hyperparams";
import { batchesPerSegment, runPlan, SEGMENT_STEP_TARGET, stepBudgetProblem, type RunPlan } from "../core/stepBudget";
import type { AgentRow } from "../db/agents";
import { db } from "../db/client";
import { createDataset, findDataset, unlabelledSampleCount, type DatasetRow } from "../db/datasets";
import { ActiveRunExistsError, activeRunOf, finishRun, insertRun, type RunRow } from "../db/runs";
import { builtinChunks, findBuiltin } from "../data/builtins";
import type { RunParams } from "./context";
import { DEFAULT_REFLECTION_TOOL_CHARS } from "../tools/messages";
import { agentTools, startMcpTools } from "../calls/toolBox";
import type { ToolSpec } from "../tools/specs";

/** Same defaults as POST /api/runs. */
export const RUN_DEFAULT_SEED = 1;
export const RUN_DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Creates a run row and starts its training Workflow, for every caller: POST /api/runs, the paper
 * protocol and the schedule. A run with an instance that would not fit the Workflow step limit is
 * refused (JobRefusedError) before anything is stored; a run the engine does not take is marked failed
 * (WorkflowStartError). Returns the run with its plan: its instances and their steps.
 */
export async function startRun(
  env: Env,
  input: {
    agent: AgentRow;
    dataset: DatasetRow;
    overrides: PartialHyperparams;
    seed?: number;
    budgetTokens?: number;
    timeoutMs?: number;
    fromVersion: number;
    kind: "manual" | "scheduled";
    id?: string;
    /** Replaces the agent's tools for this run (the paper protocol's "no-tools" variant passes []). */
    tools?: ToolSpec[];
    /** Batches per segment instance; default (and at most) as many as fit a segment's step target. */
    segmentBatches?: number;
  },
): Promise<RunRow & { plan: RunPlan }> {
  const d = db(env.DB);
  // Agent defaults were validated when stored; a row that no longer parses falls back to the paper's.
  const defaults = partialHyperparamsSchema.safeParse(input.agent.trainingDefaults);
  const hyper = resolveHyperparams(input.dataset.sampleCount, input.overrides, defaults.success ? defaults.data : {});
  const problem = stepBudgetProblem(input.dataset.sampleCount, hyper);
  if (problem) throw new JobRefusedError(problem, "too_many_steps", "epochs");
  const fitting = batchesPerSegment(hyper);
  if (input.segmentBatches !== undefined && input.segmentBatches > fitting)
    throw new JobRefusedError(
      `segmentBatches ${input.segmentBatches} would make a segment take more than its ${SEGMENT_STEP_TARGET} steps: at most ${fitting} batches fit one with batch ${hyper.batchSize} and ${hyper.maxGroupsInFlight} groups in flight`,
      "too_many_steps",
      "segmentBatches",
    );
  if (hyper.groundTruth) {
    const unlabelled = await unlabelledSampleCount(d, input.dataset.id);
    if (unlabelled > 0) {
      throw new JobRefusedError(
        `data set '${input.dataset.name}' has ${unlabelled} sample(s) without an answer: train it with groundTruth: false`,
        "unlabelled_samples",
        "groundTruth",
      );
    }
  }
  const tools = input.tools ?? agentTools(input.agent);
  const params: RunParams = {
    ...hyper,
    seed: input.seed ?? RUN_DEFAULT_SEED,
    budgetTokens: input.budgetTokens ?? null,
    timeoutMs: input.timeoutMs ?? RUN_DEFAULT_TIMEOUT_MS,
    tools,
    // Listed once, before anything is stored: a server that cannot be listed refuses the run.
    mcpTools: await startMcpTools(env, tools),
    maxTurns: input.agent.maxTurns,
    model: input.agent.upstreamModel,
    reflectionToolChars: DEFAULT_REFLECTION_TOOL_CHARS,
    segmentBatches: input.segmentBatches ?? fitting,
  };
  const active = await activeRunOf(d, input.agent.id);
  if (active)
    throw conflict(
      `agent '${input.agent.name}' already has a run in progress (${active}); cancel it or wait for it to finish`,
      "run_in_progress",
    );
  // The unique index settles two starts racing past the check above.
  const run = await insertRun(d, {
    id: input.id ?? newId("run"),
    agentId: input.agent.id,
    datasetId: input.dataset.id,
    kind: input.kind,
    params,
    status: "queued",
    fromVersion: input.fromVersion,
    latestVersion: input.fromVersion,
    progress: { samples: input.dataset.sampleCount },
  }).catch((error: unknown) => {
    if (error instanceof ActiveRunExistsError)
      throw conflict(`agent '${input.agent.name}' already has a run in progress; cancel it or wait for it to finish`, "run_in_progress");
    throw error;
  });
  try {
    await env.TRAINING_RUN.create({ id: run.id, params: { runId: run.id } });
  } catch {
    await finishRun(d, run.id, "failed", { error: "the Workflow engine refused the run", reason: "error" });
    throw new WorkflowStartError("could not start the training Workflow");
  }
  return { ...run, plan: runPlan(input.dataset.sampleCount, hyper, params.segmentBatches) };
}

/** A built-in data set by name, loaded on first use (a data set already holding the name is used as is). */
export async function ensureBuiltinDataset(env: Env, name: string): Promise<DatasetRow> {
  const d = db(env.DB);
  const found = await findDataset(d, name);
  if (found) return found;
  const builtin = findBuiltin(name);
  if (!builtin) throw new Error(`no built-in data set named '${name}'`);
  const outcome = await createDataset(
    d,
    { name, source: "builtin", description: builtin.description, attribution: builtin.attribution },
    "jsonl",
    builtinChunks(builtin),
  );
  if (outcome.ok) return outcome.dataset;
  const raced = await findDataset(d, name);
  if (raced) return raced;
  throw new Error(`could not load built-in data set '${name}' (${outcome.reason})`);
}
