import { promotionWarnings } from "./warnings";
import type { ArmCounts, CanaryVerdict } from "../core/canaryDecision";
import { decideCanary } from "../core/canaryDecision";
import { rulesOf, type CanaryRollout, type CanarySpec } from "../core/canarySpec";
import { findAgent, type AgentRow } from "../db/agents";
import { endCanary, findCanary, findRunningCanary, rampCanary, startCanary, type CanaryRecord, type CanaryRow } from "../db/canaries";
import { db, type Db } from "../db/client";
import { findVersion } from "../db/libraryVersions";
import { canaryArmRows } from "../db/liveMetrics";
import { findPromotion, type PromotionRow } from "../db/promotions";
import { agentChanged } from "../serving/invalidate";
import { flushUsage } from "../serving/usageLog";
import { ApiError, badRequest, conflict, notFound } from "../shared/errors";
import { newId } from "../shared/ids";
import { describeError } from "../shared/logging";
import { sleep } from "../shared/time";

/**
 * Canaries (docs/serving.md, "Canary"): start one (an admin, or a gate with `rollout: "canary"`), apply
 * the decision rule (core/canaryDecision.ts) when feedback or errors arrive and on every cron tick, and
 * end one when its comparison no longer holds (the active version changed, a version is gone). Every
 * start and end is recorded in `promotions`.
 */

const label = (v: number | null) => (v === null || v === 0 ? "no library" : `v${v}`);
/** The one record of a canary's end (at most one per canary, whoever ends it). */
const endRecordId = (canaryId: string) => `prm_end_${canaryId}`;

export type CanaryStart = { canary: CanaryRow; decision: PromotionRow };

/** Why a canary of `version` cannot start on this agent now (400 naming the field), or nothing. */
async function refuseStart(d: Db, agent: AgentRow, version: number): Promise<void> {
  const running = await findRunningCanary(d, agent.id);
  if (running) {
    throw badRequest(
      `a canary of v${running.version} (${running.id}) is already running on agent '${agent.name}'; end it first (DELETE /api/agents/${agent.name}/canary)`,
      "canary_running",
      "canary",
    );
  }
  if (!(await findVersion(d, agent.id, version))) {
    throw badRequest(`library version ${version} of agent '${agent.name}' does not exist`, "version_not_found", "version");
  }
  if (version === agent.activeVersion) {
    throw badRequest(
      `version ${version} is already the active version of agent '${agent.name}': nothing to compare`,
      "version_is_active",
      "version",
    );
  }
}

/** Starts a canary by an admin's request; bad specs are 400s naming the field. */
export async function startCanaryByHand(env: Env, agent: AgentRow, spec: CanarySpec, reason: string | undefined): Promise<CanaryStart> {
  const d = db(env.DB);
  await refuseStart(d, agent, spec.version);
  const id = newId("cny");
  const recordId = newId("prm");
  const canary = await startCanary(
    d,
    {
      id,
      agentId: agent.id,
      version: spec.version,
      baseVersion: agent.activeVersion,
      percent: spec.percent,
      stickyBy: spec.stickyBy,
      rules: rulesOf(spec),
      startedBy: "manual",
    },
    {
      id: recordId,
      decidedBy: "manual",
      decision: "canary_started",
      fromVersion: agent.activeVersion,
      toVersion: spec.version,
      reason:
        reason ??
        `serve v${spec.version} to ${spec.percent}% of the traffic (sticky by ${spec.stickyBy}) next to ${label(agent.activeVersion)} (canary ${id})`,
    },
  );
  if (!canary) {
    // Something changed between the checks and the write: say what.
    const now = await findAgent(d, agent.id);
    if (!now) throw notFound("agent", agent.name);
    await refuseStart(d, now, spec.version);
    throw conflict(`the active version of agent '${agent.name}' changed while the canary was being started; try again`, "active_changed");
  }
  agentChanged(agent.id);
  const decision = await findPromotion(d, recordId);
  if (!decision) throw new Error(`canary ${id} started without its record`);
  return { canary, decision };
}

/**
 * Starts a gate's canary (rollout "canary") instead of promoting: the record carries the gate's id, so a
 * replayed Workflow step finds it. Returns the stored decision, a refusal when it could not start.
 */
export async function startCanaryByGate(
  env: Env,
  agent: AgentRow,
  rollout: CanaryRollout,
  record: Omit<CanaryRecord, "decision" | "toVersion" | "fromVersion" | "decidedBy" | "reason"> & {
    fromVersion: number | null;
    toVersion: number;
    decidedBy: "gate" | "schedule";
    reason: string;
  },
): Promise<{ started: boolean; reason: string }> {
  const d = db(env.DB);
  const id = `cny_${record.runId ?? record.id}`;
  const reason = `${record.reason}; serving v${record.toVersion} to ${rollout.percent}% of the traffic (sticky by ${rollout.stickyBy}) as canary ${id}`;
  const canary = await startCanary(
    d,
    {
      id,
      agentId: agent.id,
      version: record.toVersion,
      baseVersion: record.fromVersion,
      percent: rollout.percent,
      stickyBy: rollout.stickyBy,
      rules: rulesOf(rollout),
      startedBy: record.decidedBy,
      runId: record.runId ?? null,
    },
    { ...record, decision: "canary_started", reason },
  );
  if (canary) {
    agentChanged(agent.id);
    return { started: true, reason };
  }
  const running = await findRunningCanary(d, agent.id);
  return {
    started: false,
    reason: running
      ? `passes the gate, but a canary of v${running.version} (${running.id}) is still running: ${record.reason}`
      : "the active version changed while the candidate was being evaluated",
  };
}

/** The rule applied to the canary's figures now (reads D1; changes nothing). */
export async function canaryVerdict(d: Db, canary: CanaryRow): Promise<CanaryVerdict> {
  const rows = await canaryArmRows(d, canary);
  const zero = (): ArmCounts => ({ requests: 0, errors: 0, feedback: 0, rewardSum: 0 });
  const candidate = zero();
  const active = zero();
  for (const r of rows) {
    const arm = r.version === canary.version ? candidate : active;
    arm.requests += r.requests;
    arm.errors += r.errors;
    arm.feedback += r.feedback;
    arm.rewardSum += r.rewardSum;
  }
  return decideCanary({
    canaryId: canary.id,
    candidateVersion: canary.version,
    activeVersion: canary.baseVersion ?? 0,
    percent: canary.percent,
    rules: canary.rules,
    candidate,
    active,
  });
}

/** Why the canary's comparison no longer holds, or null. */
async function brokenComparison(d: Db, agent: AgentRow, canary: CanaryRow, cause: string | undefined): Promise<string | null> {
  if (agent.activeVersion !== canary.baseVersion) {
    const by = cause ?? "outside the canary";
    return agent.activeVersion === canary.version
      ? `the candidate ${label(canary.version)} was made the active version ${by}`
      : `the active version changed ${by} (${label(canary.baseVersion)} → ${label(agent.activeVersion)}); the canary compared ${label(canary.version)} with ${label(canary.baseVersion)}`;
  }
  if (!(await findVersion(d, agent.id, canary.version))) return `the candidate ${label(canary.version)} no longer exists`;
  if (canary.baseVersion !== null && !(await findVersion(d, agent.id, canary.baseVersion)))
    return `the active version ${label(canary.baseVersion)} no longer exists`;
  return null;
}

export type Settlement = { canaryId: string; action: "promoted" | "rolled_back" | "ended" | "wait"; reason: string };

/**
 * Applies the decision rule to the agent's running canary and acts on it: promote, roll back, or wait;
 * first ends it when its comparison no longer holds (`cause` says how the active version changed, for
 * the record). Returns null when no canary runs. Idempotent: one canary is ended once, by whoever
 * gets there first.
 */
export async function settleCanary(env: Env, agentId: string, cause?: string): Promise<Settlement | null> {
  const d = db(env.DB);
  const canary = await findRunningCanary(d, agentId);
  if (!canary) return null;
  const agent = await findAgent(d, agentId);
  if (!agent || agent.id !== agentId) return null;
  const verdict = await canaryVerdict(d, canary);
  const broken = await brokenComparison(d, agent, canary, cause);
  const base = { fromVersion: canary.baseVersion, toVersion: canary.version, runId: canary.runId, figures: verdict.figures };
  let action: Settlement["action"];
  let reason: string;
  let warnings: string[] = [];
  if (broken) {
    action = "ended";
    reason = `canary ended: ${broken}`;
  } else if (verdict.action === "wait") {
    return { canaryId: canary.id, action: "wait", reason: verdict.reason };
  } else {
    action = verdict.action === "promote" ? "promoted" : "rolled_back";
    if (action === "promoted") warnings = await promotionWarnings(d, agent, canary.version);
    reason = verdict.action === "promote" ? `promoted to all traffic: ${verdict.reason}` : `rolled back: ${verdict.reason}`;
  }
  const done = await endCanary(d, {
    canary,
    status: action,
    reason,
    record: { id: endRecordId(canary.id), decidedBy: "canary", decision: action, ...base, reason, warnings },
  });
  if (done) agentChanged(agentId);
  return done ? { canaryId: canary.id, action, reason } : null;
}

/** The agent's running canary, for an admin's change to it; 404 when none runs. */
async function runningCanaryOf(d: Db, agent: AgentRow): Promise<CanaryRow> {
  const canary = await findRunningCanary(d, agent.id);
  if (!canary) throw new ApiError(404, `no canary is running on agent '${agent.name}'`, "canary_not_found");
  return canary;
}

/** The record of an admin's change to a canary, with the canary's figures so far. */
function manualRecord(
  canary: CanaryRow,
  verdict: CanaryVerdict,
  id: string,
  decision: "ended" | "canary_ramped",
  reason: string,
): CanaryRecord {
  return {
    id,
    decidedBy: "manual",
    decision,
    fromVersion: canary.baseVersion,
    toVersion: canary.version,
    runId: canary.runId,
    figures: verdict.figures,
    reason,
  };
}

/** After an admin's change: serve it here at once, and answer with the canary and the change's record as stored. */
async function afterManualChange(
  d: Db,
  agent: AgentRow,
  canaryId: string,
  recordId: string,
): Promise<{ canary: CanaryRow; decision: PromotionRow }> {
  agentChanged(agent.id);
  const [canary, decision] = await Promise.all([findCanary(d, canaryId), findPromotion(d, recordId)]);
  if (!canary || !decision) throw new Error(`canary ${canaryId} changed without its record`);
  return { canary, decision };
}

/** Ends the agent's running canary at an admin's request, with its figures so far. */
export async function endCanaryByHand(
  env: Env,
  agent: AgentRow,
  reason: string | undefined,
): Promise<{ canary: CanaryRow; decision: PromotionRow }> {
  const d = db(env.DB);
  const canary = await runningCanaryOf(d, agent);
  await flushUsage(env);
  const verdict = await canaryVerdict(d, canary);
  const why = reason ?? `ended by hand; ${label(canary.baseVersion)} serves all traffic`;
  const recordId = endRecordId(canary.id);
  const done = await endCanary(d, { canary, status: "ended", reason: why, record: manualRecord(canary, verdict, recordId, "ended", why) });
  if (!done) throw conflict(`the canary ${canary.id} ended while this request was being handled`, "canary_ended");
  return afterManualChange(d, agent, canary.id, recordId);
}

/**
 * Changes the running canary's share of the traffic at an admin's request (a ramp: 5% → 20% → 50%), with
 * its figures so far in the record. The canary, its rules and its figures carry on: the same sticky values
 * keep their positions, so raising the share moves users from the active arm to the candidate's and
 * never back; lowering it moves some back. 404 without a canary, 400 for the share it already has.
 */
export async function rampCanaryByHand(
  env: Env,
  agent: AgentRow,
  percent: number,
  reason: string | undefined,
): Promise<{ canary: CanaryRow; decision: PromotionRow }> {
  const d = db(env.DB);
  const canary = await runningCanaryOf(d, agent);
  if (canary.percent === percent)
    throw badRequest(`the canary ${canary.id} already serves ${percent}% of the traffic`, "percent_unchanged", "percent");
  await flushUsage(env);
  const verdict = await canaryVerdict(d, canary);
  const why = reason ?? `${label(canary.version)} ramped from ${canary.percent}% to ${percent}% of the traffic (canary ${canary.id})`;
  const recordId = newId("prm");
  const done = await rampCanary(d, canary, percent, manualRecord(canary, verdict, recordId, "canary_ramped", why));
  if (!done) throw conflict(`the canary ${canary.id} ended while this request was being handled`, "canary_ended");
  return afterManualChange(d, agent, canary.id, recordId);
}

/**
 * Evaluations of one agent's canary start at least this far apart in an isolate: each one sums the
 * canary's requests in D1, and feedback may arrive far faster than a decision needs.
 */
const SETTLE_INTERVAL_MS = 1_000;

/** Evaluations in flight per agent in this isolate, and whether another was asked for meanwhile. */
const inFlight = new Map<string, Promise<void>>();
const askedAgain = new Set<string>();

/**
 * Settles the agent's canary soon, off the response path (hand the promise to `waitUntil`): after a
 * feedback message, or an error reply of a canary's request. This isolate's buffered usage rows are
 * written first, so the request the feedback is about is counted. Requests that ask while one runs
 * share it, plus one more run after it (at least SETTLE_INTERVAL_MS after its start): at most one
 * evaluation per agent in flight, and about one a second, per isolate. Failures are logged, never thrown.
 */
export function settleCanarySoon(env: Env, agentId: string): Promise<void> {
  const running = inFlight.get(agentId);
  if (running) {
    askedAgain.add(agentId);
    return running;
  }
  const work = (async () => {
    for (;;) {
      askedAgain.delete(agentId);
      const startedAt = Date.now();
      try {
        await flushUsage(env);
        await settleCanary(env, agentId);
      } catch (error) {
        console.error(`canary of agent ${agentId}: evaluation failed: ${describeError(error, env)}`);
      }
      if (!askedAgain.has(agentId)) break;
      // Asks that arrive while this waits are answered by the same next run.
      await sleep(Math.max(0, SETTLE_INTERVAL_MS - (Date.now() - startedAt)));
    }
  })().finally(() => inFlight.delete(agentId));
  inFlight.set(agentId, work);
  return work;
}
