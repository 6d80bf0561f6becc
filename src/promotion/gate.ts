import { defaultChunkSize } from "../core/evaluationFigures";
import { decideGate, type GateFigures } from "../core/gateDecision";
import { gateConfigSchema } from "../core/policies";
import { findAgent } from "../db/agents";
import { db } from "../db/client";
import { findDataset } from "../db/datasets";
import { findEvaluation } from "../db/evaluationRows";
import { findPromotion, promote, recordRefusal, type PromotionRow } from "../db/promotions";
import { findRun } from "../db/runs";
import { agentChanged } from "../serving/invalidate";
import { promotionWarnings } from "./warnings";
import { startEvaluation, type EvalNotify } from "../evaluation/evaluate";
import { settleCanary, startCanaryByGate } from "./canary";
import { startReplayEvaluation } from "../evaluation/replay";
import { JobRefusedError } from "../shared/errors";

/**
 * Gated promotion of a finished run's final version (the last steps of a training run): evaluate it
 * against the active version on the agent's validation set (or, with a replay gate, on its held-out
 * captured traffic judged without labels), then promote only if the rule holds.
 * Every decision, promoted or refused, is recorded in `promotions`.
 */

export type GatePlan = { evaluationId: string; candidate: number; active: number | null; decidedBy: "gate" | "schedule" };

export const gateEvaluationId = (runId: string) => `eval_gate_${runId}`;
export const gatePromotionId = (runId: string) => `prm_gate_${runId}`;

/**
 * Decides whether the run needs a gate and, if so, starts the gate evaluation (idempotently). Returns
 * null when there is nothing to wait for (run not completed, no new version, no gate) — having
 * recorded the refusal when a decision was due.
 */
export async function prepareGate(env: Env, runId: string, notify: Omit<EvalNotify, "type"> & { type: string }): Promise<GatePlan | null> {
  const d = db(env.DB);
  const run = await findRun(d, runId);
  if (run?.status !== "completed") return null;
  const agent = await findAgent(d, run.agentId);
  if (!agent) return null;
  const decidedBy = run.kind === "scheduled" ? "schedule" : "gate";
  const candidate = run.latestVersion ?? 0;
  const active = agent.activeVersion;
  const refuse = async (reason: string) => {
    await recordRefusal(d, {
      id: gatePromotionId(runId),
      agentId: agent.id,
      decidedBy,
      fromVersion: active,
      toVersion: candidate,
      runId,
      reason,
    });
    return null;
  };
  const parsed = agent.gate === null ? null : gateConfigSchema.safeParse(agent.gate);
  if (parsed === null || !parsed.success) {
    // A manual run without a gate is the user's to promote; a scheduled one must not go live unvalidated.
    return run.kind === "scheduled" ? refuse("no gate configured on the agent; nothing goes live unvalidated (promote manually)") : null;
  }
  if (candidate === 0) return refuse("the run produced no library");
  if (candidate === (active ?? 0)) return refuse(`the run's final version ${candidate} is already what the agent serves`);
  const gate = parsed.data;
  const versions: [number, number] = [candidate, active ?? 0];
  if (gate.kind === "replay") {
    try {
      const evaluation = await startReplayEvaluation(env, {
        id: gateEvaluationId(runId),
        agent,
        versions,
        sample: gate.sample,
        g: gate.G,
        temperature: gate.temperature,
        seed: gate.seed,
        judge: gate.judge,
        judgeModel: gate.judgeModel ?? null,
        purpose: "gate",
        runId,
        notify,
        nowIso: new Date().toISOString(),
      });
      return { evaluationId: evaluation.id, candidate, active, decidedBy };
    } catch (error) {
      // Nothing to replay (capture off, no held-out capture): nothing goes live unvalidated.
      if (error instanceof JobRefusedError) return refuse(`replay gate: ${error.message}`);
      throw error;
    }
  }
  const dataset = await findDataset(d, gate.dataset);
  if (!dataset || dataset.sampleCount === 0) return refuse(`validation data set '${gate.dataset}' is missing or empty`);
  const evaluation = await startEvaluation(
    env,
    {
      id: gateEvaluationId(runId),
      agent,
      dataset,
      versions,
      k: gate.k,
      temperature: gate.temperature,
      seed: gate.seed,
      purpose: "gate",
      runId,
      notify,
    },
    defaultChunkSize,
  );
  return { evaluationId: evaluation.id, candidate, active, decidedBy };
}

/** Applies the rule to the finished gate evaluation and promotes (atomically) or records the refusal. */
export async function decideAfterGate(
  env: Env,
  runId: string,
  plan: GatePlan,
): Promise<Pick<PromotionRow, "decision" | "reason" | "toVersion">> {
  const d = db(env.DB);
  const id = gatePromotionId(runId);
  const done = await findPromotion(d, id);
  if (done) return done;
  const run = await findRun(d, runId);
  const agent = run ? await findAgent(d, run.agentId) : undefined;
  if (!run || !agent) throw new Error(`run ${runId} or its agent no longer exists`);
  const base = {
    id,
    agentId: agent.id,
    decidedBy: plan.decidedBy,
    fromVersion: plan.active,
    toVersion: plan.candidate,
    runId,
    evaluationId: plan.evaluationId,
    warnings: await promotionWarnings(d, agent, plan.candidate),
  };
  const evaluation = await findEvaluation(d, plan.evaluationId);
  const summary = evaluation?.summary;
  const comparison = summary?.comparisons[0];
  const candidateFig = summary?.versions.find((v) => v.version === plan.candidate);
  const activeFig = summary?.versions.find((v) => v.version === (plan.active ?? 0));
  if (evaluation?.status !== "completed" || !summary || !comparison || !candidateFig || !activeFig) {
    await recordRefusal(d, {
      ...base,
      reason: `gate evaluation did not complete (${evaluation?.status ?? "missing"}${evaluation?.error ? `: ${evaluation.error}` : ""})`,
    });
    return (await findPromotion(d, id)) ?? { decision: "refused", reason: "gate evaluation did not complete", toVersion: plan.candidate };
  }
  const rule = gateConfigSchema.parse(agent.gate ?? { dataset: "-" });
  const figures: GateFigures = {
    candidateVersion: plan.candidate,
    activeVersion: plan.active ?? 0,
    candidateMeanAtK: candidateFig.meanAtK,
    activeMeanAtK: activeFig.meanAtK,
    diff: comparison.diff,
    ci: comparison.ci,
    questions: summary.questions,
    k: summary.k,
    margin: rule.margin,
  };
  const verdict = decideGate(figures, rule);
  if (!verdict.promote) {
    await recordRefusal(d, { ...base, figures, reason: verdict.reason });
    return (await findPromotion(d, id)) ?? { decision: "refused", reason: verdict.reason, toVersion: plan.candidate };
  }
  if (rule.rollout === "canary" && rule.canary) {
    // A passing version goes to part of the traffic first; live feedback decides the rest.
    const started = await startCanaryByGate(env, agent, rule.canary, { ...base, figures, reason: verdict.reason });
    if (!started.started) await recordRefusal(d, { ...base, figures, reason: started.reason });
    return (
      (await findPromotion(d, id)) ?? {
        decision: started.started ? "canary_started" : "refused",
        reason: started.reason,
        toVersion: plan.candidate,
      }
    );
  }
  const stored = await promote(d, { ...base, figures, reason: verdict.reason }, true);
  if (stored.decision === "promoted") {
    agentChanged(agent.id);
    // A canary compared with the version just replaced no longer compares anything.
    await settleCanary(env, agent.id, `by the gate of run ${runId}`);
  }
  return stored;
}
