import { deriveSeed } from "../core/batching";
import { applyCredit, creditEntriesSchema, deletionCandidates, tallyCredit, type CreditTally } from "../core/credit";
import type { Experience } from "../core/library";
import { refuseVague, type RefusedOperation } from "../core/specificity";
import { meanAtK, passAtK } from "../core/metrics";
import { applyPlan, capViolations, operationSchema, validatePlan, type Operation } from "../core/operations";
import { parseOperations } from "../core/parse";
import { batchUpdatePrompt, consolidatePrompt } from "../core/prompts";
import type { Result } from "../core/result";
import { highestItemNumberEver, nextVersionNumber, versionStatements, findVersionByOrigin } from "../db/libraryVersions";
import { runs } from "../db/schema";
import { batchGroups, batchRewards, findBatch, insertBatchStatement } from "../db/training";
import { eq } from "drizzle-orm";
import type { RunContext } from "./context";
import { callLlm } from "../calls/llmCall";

/** Consolidation rounds allowed to bring a library within its caps before the batch is dropped. */
export const CONSOLIDATION_ROUNDS = 2;

export type BatchOutcome = { status: "applied" | "dropped" | "empty"; version: number; reason: string | null };

type Caps = { maxExperiences: number; maxWords: number };

async function llmPlan(
  ctx: RunContext,
  key: string,
  stage: string,
  messages: Parameters<typeof callLlm>[1]["messages"],
  library: Experience[],
  caps: Caps,
): Promise<Result<Operation[]>> {
  return callLlm(ctx.call, {
    key,
    stage,
    messages,
    temperature: 0,
    seed: deriveSeed(ctx.params.seed, key),
    parse: (text) => {
      const ops = parseOperations(text);
      return ops.ok ? validatePlan(ops.value, library, caps) : ops;
    },
  });
}

/** What a batch records besides its plan: Mean@G, Pass@G, group outcomes, tool calls per rollout. */
type BatchStats = {
  meanAtG: number;
  passAtG: number;
  groupsKept: number;
  groupsSkipped: number;
  groupsDropped: number;
  avgToolCalls: number;
};

/** `group` null: a DELETE proposed from the items' credit record (src/core/credit.ts). */
type Proposal = Operation & { group: number | null };

/** The result of planning: the library after the plan (and any consolidation), or why the batch is dropped. */
type Planned = {
  outcome: BatchOutcome;
  items: Experience[];
  plan: Operation[];
  applied: Record<string, number>;
  refused: RefusedOperation[];
};

/**
 * Stages 7–8 for one batch: consolidate every kept group's proposals into one plan, enforce the caps by
 * asking for consolidation, and store the result as a new immutable version — all or nothing, once.
 */
export async function updateBatch(
  ctx: RunContext,
  epoch: number,
  batch: number,
  base: { version: number; items: Experience[] },
): Promise<BatchOutcome> {
  const done = await findBatch(ctx.d, ctx.run.id, epoch, batch);
  if (done) return { status: done.status, version: done.version ?? base.version, reason: done.reason };
  const { proposals, stats, credit } = await gatherBatch(ctx, epoch, batch);
  // Credit is added before planning, so the batch update sees each item's record and its deletions.
  const credited = { version: base.version, items: applyCredit(base.items, credit) };
  const candidates = deletionCandidates(credited.items, ctx.params.staleAfterBatches).map(
    (c): Proposal => ({ group: null, op: "DELETE", id: c.id, reason: c.reason }),
  );
  const planned = await planBatch(ctx, `e${epoch}/b${batch}`, { runId: ctx.run.id, epoch, batch }, credited, [...proposals, ...candidates]);
  // A batch that changes no text still moves the counters: its credit is kept in a version of its own.
  if (planned.outcome.status === "empty" && Object.keys(credit).length > 0) {
    planned.outcome = { status: "applied", version: base.version, reason: "credit only: no operation, counters updated" };
  }
  return commitBatch(ctx, epoch, batch, base.version, planned, stats);
}

/** The kept groups' proposed operations and the batch's figures, read from D1 (rewards only, never texts). */
async function gatherBatch(
  ctx: RunContext,
  epoch: number,
  batch: number,
): Promise<{ proposals: Proposal[]; stats: BatchStats; credit: CreditTally }> {
  const groupRows = await batchGroups(ctx.d, ctx.run.id, epoch, batch);
  const rollouts = await batchRewards(ctx.d, ctx.run.id, epoch, batch);
  const rewardsBySample = new Map<number, number[]>();
  for (const r of rollouts) rewardsBySample.set(r.sampleIdx, [...(rewardsBySample.get(r.sampleIdx) ?? []), r.reward]);
  const rewards = [...rewardsBySample.values()];
  const count = (s: string) => groupRows.filter((g) => g.status === s).length;
  const proposals = groupRows.flatMap((g) =>
    g.status === "kept"
      ? (g.operations ?? []).map((raw) => ({ group: g.sampleIdx, ...operationSchema.parse(raw) })).filter((p) => p.op !== "NONE")
      : [],
  );
  const credit: CreditTally = {};
  for (const g of groupRows) if (g.status === "kept") tallyCredit(creditEntriesSchema.parse(g.credit ?? []), credit);
  const stats: BatchStats = {
    meanAtG: meanAtK(rewards),
    passAtG: passAtK(rewards),
    groupsKept: count("kept"),
    groupsSkipped: count("skipped"),
    groupsDropped: count("dropped"),
    avgToolCalls: rollouts.length === 0 ? 0 : rollouts.reduce((n, r) => n + r.toolCalls, 0) / rollouts.length,
  };
  return { proposals, stats, credit };
}

/** Stage 7: one batch-update call turns the proposals into a net plan against the pre-batch library. */
async function planBatch(
  ctx: RunContext,
  prefix: string,
  where: { runId: string; epoch: number; batch: number },
  base: { version: number; items: Experience[] },
  proposals: Proposal[],
): Promise<Planned> {
  const caps: Caps = { maxExperiences: ctx.params.maxExperiences, maxWords: ctx.params.maxWordsPerExperience };
  if (proposals.length === 0)
    return {
      outcome: { status: "empty", version: base.version, reason: "no group proposed a change" },
      items: base.items,
      plan: [],
      applied: {},
      refused: [],
    };
  const planned = await llmPlan(
    ctx,
    `${prefix}/batch-update`,
    "batch_update",
    batchUpdatePrompt({ objective: ctx.agent.objective, proposals, library: base.items, ...caps }),
    base.items,
    { ...caps, maxExperiences: Number.MAX_SAFE_INTEGER },
  );
  if (!planned.ok)
    return {
      outcome: { status: "dropped", version: base.version, reason: `batch update: ${planned.error}` },
      items: base.items,
      plan: [],
      applied: {},
      refused: [],
    };
  const { kept, refused } = refuseVague(planned.value);
  const highestId = await highestItemNumberEver(ctx.d, ctx.agent.id);
  const first = applyPlan(base.items, kept, { ...where, highestId });
  const applied: Record<string, number> = {};
  tally(applied, first.applied);
  const consolidated = await consolidate(ctx, prefix, where, first, caps, applied, refused);
  const violations = capViolations(consolidated.items, caps);
  return {
    outcome:
      violations.length > 0
        ? { status: "dropped", version: base.version, reason: `library over its caps after consolidation: ${violations.join("; ")}` }
        : { status: "applied", version: base.version, reason: null },
    items: consolidated.items,
    plan: [...kept, ...consolidated.plan],
    applied,
    refused,
  };
}

/** Caps are enforced by asking the model to consolidate (at most CONSOLIDATION_ROUNDS times), never by truncation. */
async function consolidate(
  ctx: RunContext,
  prefix: string,
  where: { runId: string; epoch: number; batch: number },
  start: { items: Experience[]; highestId: number },
  caps: Caps,
  applied: Record<string, number>,
  refused: RefusedOperation[],
): Promise<{ items: Experience[]; plan: Operation[] }> {
  let { items, highestId } = start;
  const plan: Operation[] = [];
  for (let round = 1; capViolations(items, caps).length > 0 && round <= CONSOLIDATION_ROUNDS; round++) {
    const consolidation = await llmPlan(
      ctx,
      `${prefix}/consolidate-${round}`,
      "consolidate",
      consolidatePrompt({ objective: ctx.agent.objective, library: items, ...caps }),
      items,
      { ...caps, maxExperiences: Number.MAX_SAFE_INTEGER },
    );
    if (!consolidation.ok) break;
    const checked = refuseVague(consolidation.value);
    refused.push(...checked.refused);
    const next = applyPlan(items, checked.kept, { ...where, highestId });
    ({ items, highestId } = next);
    tally(applied, next.applied);
    plan.push(...checked.kept);
  }
  return { items, plan };
}

/** Stage 8: the new version (if any), the batch record and the run's latest version, in one D1 batch(). */
async function commitBatch(
  ctx: RunContext,
  epoch: number,
  batch: number,
  baseVersion: number,
  planned: Planned,
  stats: BatchStats,
): Promise<BatchOutcome> {
  const outcome = { ...planned.outcome };
  const originKey = `${ctx.run.id}/e${epoch}/b${batch}`;
  const statements = [];
  if (outcome.status === "applied") {
    const existing = await findVersionByOrigin(ctx.d, ctx.agent.id, originKey);
    outcome.version = existing?.version ?? (await nextVersionNumber(ctx.d, ctx.agent.id));
    if (!existing) {
      statements.push(
        ...versionStatements(
          ctx.d,
          {
            agentId: ctx.agent.id,
            version: outcome.version,
            parentVersion: baseVersion,
            runId: ctx.run.id,
            originKey,
            note: `run ${ctx.run.id} epoch ${epoch} batch ${batch}`,
            // The model at the run's start (runs from before it was recorded: the agent's current one).
            model: ctx.params.model ?? ctx.agent.upstreamModel,
          },
          planned.items,
        ),
      );
    }
  }
  statements.push(
    insertBatchStatement(ctx.d, {
      runId: ctx.run.id,
      epoch,
      batch,
      status: outcome.status,
      ...stats,
      plan: planned.plan,
      refused: planned.refused,
      opsByKind: planned.applied,
      version: outcome.status === "applied" ? outcome.version : null,
      reason: outcome.reason,
    }),
    ctx.d.update(runs).set({ latestVersion: outcome.version, updatedAt: new Date().toISOString() }).where(eq(runs.id, ctx.run.id)),
  );
  const [head, ...rest] = statements;
  if (head) await ctx.d.batch([head, ...rest]);
  return outcome;
}

function tally(into: Record<string, number>, add: Record<string, number>): void {
  for (const [k, v] of Object.entries(add)) if (v > 0) into[k] = (into[k] ?? 0) + v;
}
