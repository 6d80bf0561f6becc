import { z } from "zod";
import { WorkflowStartError } from "../shared/errors";
import { newId } from "../shared/ids";
import { defaultChunkSize } from "../core/evaluationFigures";
import { findAgent, type AgentRow } from "../db/agents";
import { db } from "../db/client";
import { findDataset } from "../db/datasets";
import { findEvaluation } from "../db/evaluationRows";
import { findProtocol, insertProtocol, updateProtocol, type ProtocolRow } from "../db/protocols";
import { findRun } from "../db/runs";
import { runParamsSchema } from "../training/context";
import { agentTools } from "../calls/toolBox";
import type { ToolSpec } from "../tools/specs";
import { startEvaluation } from "../evaluation/evaluate";
import { ensureBuiltinDataset, startRun } from "../training/startRun";

/**
 * The paper's protocol (Cai et al., 2025) as one request: train on DAPO-100 (3 epochs, G=5, batch
 * 100, temperature 0.7), then evaluate the final library against none on AIME 2024 and 2025 at
 * Mean@32, temperature 0.3. Overrides exist for tests and smoke runs; without them it is the paper's.
 */
export const PAPER_PROTOCOL = {
  train: { dataset: "dapo-100", epochs: 3, groupSize: 5, batchSize: 100, temperature: 0.7 },
  evaluate: { datasets: ["aime24", "aime25"], k: 32, temperature: 0.3 },
  seed: 1,
  pollSeconds: 60,
} as const;

export const protocolOverridesSchema = z
  .object({
    epochs: z.number().int().min(1).max(20),
    groupSize: z.number().int().min(1).max(32),
    batchSize: z.number().int().min(1).max(1000),
    maxGroupsInFlight: z.number().int().min(1).max(256),
    k: z.number().int().min(1).max(64),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    pollSeconds: z.number().int().min(1).max(3600),
  })
  .partial()
  .strict();
export type ProtocolOverrides = z.infer<typeof protocolOverridesSchema>;

/**
 * The paper's two settings: `react-code`, the agent with the code tool in a ReAct loop (its headline,
 * AIME24 80.0 → 82.7), and `no-tools`, plain chat rollouts (68.6 → 72.6). Default `no-tools`.
 */
export const PROTOCOL_VARIANTS = ["react-code", "no-tools"] as const;
export type ProtocolVariant = (typeof PROTOCOL_VARIANTS)[number];

/** The tools of a variant: the agent's own code tool (its limits) or the default one; none for no-tools. */
export function variantTools(agent: AgentRow, variant: ProtocolVariant): ToolSpec[] {
  if (variant === "no-tools") return [];
  return [agentTools(agent).find((t) => t.type === "code") ?? { type: "code" }];
}

export type ProtocolParams = {
  trainDataset: string;
  evalDatasets: string[];
  k: number;
  temperature: number;
  seed: number;
  pollSeconds: number;
  overrides: ProtocolOverrides;
  variant: ProtocolVariant;
};

/** Loads the data sets, creates the run and starts both Workflows. */
export async function startPaperProtocol(
  env: Env,
  agent: AgentRow,
  overrides: ProtocolOverrides,
  variant: ProtocolVariant = "no-tools",
): Promise<ProtocolRow> {
  const p = PAPER_PROTOCOL;
  const train = await ensureBuiltinDataset(env, p.train.dataset);
  for (const name of p.evaluate.datasets) await ensureBuiltinDataset(env, name);
  const seed = overrides.seed ?? p.seed;
  const run = await startRun(env, {
    agent,
    dataset: train,
    overrides: {
      epochs: overrides.epochs ?? p.train.epochs,
      groupSize: overrides.groupSize ?? p.train.groupSize,
      batchSize: overrides.batchSize ?? p.train.batchSize,
      temperature: p.train.temperature,
      ...(overrides.maxGroupsInFlight ? { maxGroupsInFlight: overrides.maxGroupsInFlight } : {}),
    },
    seed,
    fromVersion: 0,
    kind: "manual",
    tools: variantTools(agent, variant),
  });
  const params: ProtocolParams = {
    trainDataset: p.train.dataset,
    evalDatasets: [...p.evaluate.datasets],
    k: overrides.k ?? p.evaluate.k,
    temperature: p.evaluate.temperature,
    seed,
    pollSeconds: overrides.pollSeconds ?? p.pollSeconds,
    overrides,
    variant,
  };
  const protocol = await insertProtocol(db(env.DB), {
    id: newId("prt"),
    agentId: agent.id,
    kind: "paper",
    params,
    runId: run.id,
    status: "running",
  });
  try {
    await env.PROTOCOL.create({ id: protocol.id, params: { protocolId: protocol.id } });
  } catch {
    await updateProtocol(db(env.DB), protocol.id, { status: "failed", error: "the Workflow engine refused the protocol" });
    throw new WorkflowStartError("could not start the protocol Workflow");
  }
  return protocol;
}

/** Where the protocol's run stands: done (with its status and final version) or not yet. */
export async function pollProtocolRun(
  env: Env,
  protocolId: string,
): Promise<{ done: boolean; status: string; version: number; pollSeconds: number }> {
  const d = db(env.DB);
  const protocol = await findProtocol(d, protocolId);
  if (!protocol) throw new Error(`protocol ${protocolId} no longer exists`);
  const run = await findRun(d, protocol.runId);
  const pollSeconds = Number((protocol.params as Partial<ProtocolParams>).pollSeconds ?? PAPER_PROTOCOL.pollSeconds);
  if (!run) return { done: true, status: "missing", version: 0, pollSeconds };
  return { done: !["queued", "running"].includes(run.status), status: run.status, version: run.latestVersion ?? 0, pollSeconds };
}

export const protocolEvaluationId = (protocolId: string, i: number) => `eval_${protocolId}_${i}`;

/** Starts one evaluation per data set: the run's final version against none (idempotent). */
export async function startProtocolEvaluations(
  env: Env,
  protocolId: string,
  instanceId: string,
  version: number,
  eventType: (i: number) => string,
): Promise<string[]> {
  const d = db(env.DB);
  const protocol = await findProtocol(d, protocolId);
  if (!protocol) throw new Error(`protocol ${protocolId} no longer exists`);
  const agent = await findAgent(d, protocol.agentId);
  if (!agent) throw new Error(`agent of protocol ${protocolId} no longer exists`);
  const params = protocol.params as ProtocolParams;
  // The evaluations use the tools the run trained with (the variant's), whatever the agent has now.
  const run = await findRun(d, protocol.runId);
  const tools = run ? runParamsSchema.parse(run.params).tools : variantTools(agent, params.variant ?? "no-tools");
  const ids: string[] = [];
  for (const [i, name] of params.evalDatasets.entries()) {
    const dataset = await findDataset(d, name);
    if (!dataset) throw new Error(`evaluation data set '${name}' is missing`);
    const evaluation = await startEvaluation(
      env,
      {
        id: protocolEvaluationId(protocolId, i),
        agent,
        dataset,
        versions: version === 0 ? [0] : [version, 0],
        k: params.k,
        temperature: params.temperature,
        seed: params.seed,
        purpose: "protocol",
        runId: protocol.runId,
        tools,
        notify: { binding: "PROTOCOL", instanceId, type: eventType(i) },
      },
      defaultChunkSize,
    );
    ids.push(evaluation.id);
  }
  await updateProtocol(d, protocolId, { evaluationIds: ids });
  return ids;
}

export async function finishProtocol(env: Env, protocolId: string, error: string | null): Promise<void> {
  const d = db(env.DB);
  const protocol = await findProtocol(d, protocolId);
  if (protocol?.status !== "running") return;
  let failure = error;
  if (failure === null) {
    for (const id of protocol.evaluationIds) {
      const e = await findEvaluation(d, id);
      if (e?.status !== "completed") failure = `evaluation ${id} ${e?.status ?? "missing"}${e?.error ? `: ${e.error}` : ""}`;
    }
  }
  await updateProtocol(d, protocolId, { status: failure === null ? "completed" : "failed", error: failure });
}
