import { deriveSeed } from "../core/batching";
import type { Experience } from "../core/library";
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

/**
 * Stages 7–8 for one batch: consolidate every kept group's proposals into one plan, enforce the caps by
 * asking for consolidation, and store the result as a new immutable version — all or nothing, once.
 */
export async function updateBatch(ctx: RunContext, epoch: number, batch: number, base: { version: number; items: Experience[] }): Promise<BatchOutcome> {
  const done = await findBatch(ctx.d, ctx.run.id, epoch, batch);
  if (done) return { status: done.status, version: done.version ?? base.version, reason: done.reason };

  const groupRows = await batchGroups(ctx.d, ctx.run.id, epoch, batch);
  const rollouts = await batchRewards(ctx.d, ctx.run.id, epoch, batch);
  const rewardsBySample = new Map<number, number[]>();
  for (const r of rollouts) rewardsBySample.set(r.sampleIdx, [...(rewardsBySample.get(r.sampleIdx) ?? []), r.reward]);
  const rewards = [...rewardsBySample.values()];
  const count = (s: string) => groupRows.filter((g) => g.status === s).length;
  const proposals = groupRows.flatMap((g) =>
    g.status === "kept" ? (g.operations ?? []).map((raw) => ({ group: g.sampleIdx, ...operationSchema.parse(raw) })).filter((p) => p.op !== "NONE") : [],
  );
  const caps: Caps = { maxExperiences: ctx.params.maxExperiences, maxWords: ctx.params.maxWordsPerExperience };
  const prefix = `e${epoch}/b${batch}`;

  let outcome: BatchOutcome = { status: "empty", version: base.version, reason: proposals.length === 0 ? "no group proposed a change" : null };
  let items = base.items;
  const applied: Record<string, number> = {};
  let plan: Operation[] = [];

  if (proposals.length > 0) {
    const planned = await llmPlan(
      ctx,
      `${prefix}/batch-update`,
      "batch_update",
      batchUpdatePrompt({ objective: ctx.agent.objective, proposals, library: base.items, ...caps }),
      base.items,
      { ...caps, maxExperiences: Number.MAX_SAFE_INTEGER },
    );
    if (!planned.ok) {
      outcome = { status: "dropped", version: base.version, reason: `batch update: ${planned.error}` };
    } else {
      plan = planned.value;
      let highestId = await highestItemNumberEver(ctx.d, ctx.agent.id);
      const where = { runId: ctx.run.id, epoch, batch };
      const first = applyPlan(base.items, plan, { ...where, highestId });
      ({ items, highestId } = first);
      tally(applied, first.applied);
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
        const next = applyPlan(items, consolidation.value, { ...where, highestId });
        ({ items, highestId } = next);
        tally(applied, next.applied);
        plan = [...plan, ...consolidation.value];
      }
      const violations = capViolations(items, caps);
      outcome =
        violations.length > 0
          ? { status: "dropped", version: base.version, reason: `library over its caps after consolidation: ${violations.join("; ")}` }
          : { status: "applied", version: base.version, reason: null };
    }
  }

  const originKey = `${ctx.run.id}/${prefix}`;
  const statements = [];
  if (outcome.status === "applied") {
    const existing = await findVersionByOrigin(ctx.d, ctx.agent.id, originKey);
    outcome.version = existing?.version ?? (await nextVersionNumber(ctx.d, ctx.agent.id));
    if (!existing) {
      statements.push(
        ...versionStatements(
          ctx.d,
          { agentId: ctx.agent.id, version: outcome.version, parentVersion: base.version, runId: ctx.run.id, originKey, note: `run ${ctx.run.id} epoch ${epoch} batch ${batch}` },
          items,
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
      meanAtG: meanAtK(rewards),
      passAtG: passAtK(rewards),
      groupsKept: count("kept"),
      groupsSkipped: count("skipped"),
      groupsDropped: count("dropped"),
      avgToolCalls: rollouts.length === 0 ? 0 : rollouts.reduce((n, r) => n + r.toolCalls, 0) / rollouts.length,
      plan,
      opsByKind: applied,
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
