import { deriveSeed } from "../core/batching";
import type { Experience } from "../core/library";
import { groupMean } from "../core/metrics";
import type { ChatMessage } from "../core/prompts";
import {
  candidateFirst,
  capturedConversation,
  critiqueOrder,
  pairRewards,
  pickCaptures,
  type ReplayJudge,
  replayMessages,
  scoresByVersion,
} from "../core/replay";
import { pairJudgePrompt, parseCritiqueScores, parsePairVerdict, replayCritiquePrompt } from "../core/replayPrompts";
import { ok } from "../core/result";
import type { AgentRow } from "../db/agents";
import { findCapture, replayableCaptures } from "../db/captures";
import { db, type Db } from "../db/client";
import { findScore, insertScore, type EvaluationRow } from "../db/evaluationRows";
import { cachedVersionItems, findVersion } from "../db/libraryVersions";
import { findRun } from "../db/runs";
import { callLlm } from "../calls/llmCall";
import { CONNECTIONS_PER_INVOCATION, mapLimit } from "../shared/limit";
import { JobRefusedError, PermanentStepError } from "../shared/errors";
import { defaultChunkSize } from "../core/evaluationFigures";
import { startEvaluation, type EvalContext, type EvalNotify } from "./evaluate";

/**
 * The replay evaluation (docs/ownership.md, "Replay gate"): held-out captured requests are sent again
 * G times under a candidate version and under a baseline, and the 2G answers of each request are
 * judged without a label. The scores take the place of rewards, so Mean@G, the intervals and the gate
 * rule are those of a labelled evaluation. Same Workflows as a labelled evaluation (workflows/evaluation.ts):
 * per capture, one step of rollouts per version, then one judging step.
 */

/** Captures considered before the seeded pick (the newest). */
const CANDIDATE_CAPTURES = 5000;

export type NewReplay = {
  id: string;
  agent: AgentRow;
  /** [candidate, baseline]; 0 is no library. */
  versions: [number, number];
  sample: number;
  g: number;
  temperature: number;
  seed: number;
  judge: ReplayJudge;
  judgeModel: string | null;
  purpose: "manual" | "gate";
  runId?: string | null;
  notify?: EvalNotify | null;
  nowIso: string;
};

/** Data sets the compared versions were trained on: their questions are not held out. */
async function trainedOn(d: Db, agentId: string, versions: readonly number[]): Promise<string[]> {
  const out = new Set<string>();
  for (const v of versions) {
    if (v === 0) continue;
    const row = await findVersion(d, agentId, v);
    const run = row?.runId ? await findRun(d, row.runId) : undefined;
    if (run) out.add(run.datasetId);
  }
  return [...out];
}

/**
 * Picks the captures and starts the evaluation; refused (JobRefusedError) when the agent's capture is
 * off — captured requests are replayed only with that consent — or when no held-out capture is left.
 * Idempotent by id: a replayed gate step finds the row it stored, with the captures it picked then.
 */
export async function startReplayEvaluation(env: Env, input: NewReplay): Promise<EvaluationRow> {
  const d = db(env.DB);
  if (!input.agent.capture.enabled) {
    throw new JobRefusedError(
      `agent '${input.agent.name}' does not capture its traffic: a replay sends captured requests again only with the agent's capture on`,
      "capture_disabled",
      "agent",
    );
  }
  const eligible = await replayableCaptures(
    d,
    input.agent.id,
    input.nowIso,
    await trainedOn(d, input.agent.id, input.versions),
    CANDIDATE_CAPTURES,
  );
  const requestIds = pickCaptures(eligible, input.sample, input.seed);
  if (requestIds.length === 0) {
    throw new JobRefusedError(
      `agent '${input.agent.name}' has no captured request to replay (within retention, with a question, not in the data set a compared version was trained on)`,
      "no_captures",
      "sample",
    );
  }
  return startEvaluation(
    env,
    {
      id: input.id,
      agent: input.agent,
      dataset: { id: "", sampleCount: requestIds.length },
      versions: input.versions,
      k: input.g,
      temperature: input.temperature,
      seed: input.seed,
      purpose: input.purpose,
      runId: input.runId ?? null,
      notify: input.notify ?? null,
      // A replay sends the captured conversation as text; the client's tools cannot be run again.
      tools: [],
      replay: { requestIds, judge: input.judge, judgeModel: input.judgeModel },
    },
    defaultChunkSize,
  );
}

function replayOf(ctx: EvalContext) {
  const replay = ctx.params.replay;
  if (!replay) throw new PermanentStepError(`evaluation ${ctx.evaluation.id} is not a replay`);
  return replay;
}

/** The captured conversation replayed as question `idx`; a capture purged meanwhile fails its question for good. */
async function conversationAt(ctx: EvalContext, idx: number): Promise<ChatMessage[]> {
  const requestId = replayOf(ctx).requestIds[idx];
  const capture = requestId ? await findCapture(ctx.d, ctx.agent.id, requestId) : undefined;
  if (!capture)
    throw new PermanentStepError(`captured request ${requestId ?? idx} is gone (past its retention, or its agent's data was deleted)`);
  const conversation = capturedConversation(capture.request);
  if (!conversation) throw new PermanentStepError(`captured request ${requestId} has no user message to replay`);
  return conversation;
}

/** The G answers to capture `idx` under `version`, each paid once (stored under `v<version>/c<idx>/r<j>`). */
async function answers(ctx: EvalContext, idx: number, version: number, conversation: ChatMessage[], library: readonly Experience[]) {
  const messages = replayMessages(conversation, library, ctx.agent.injectPosition);
  const indices = Array.from({ length: ctx.params.k }, (_, j) => j);
  return mapLimit(indices, CONNECTIONS_PER_INVOCATION, async (j) => {
    const reply = await callLlm(ctx.call, {
      key: `v${version}/c${idx}/r${j}`,
      stage: "replay",
      messages,
      temperature: ctx.params.temperature,
      // Common random numbers: rollout j of a capture has the same seed under both versions.
      seed: deriveSeed(ctx.params.seed, "replay", idx, j),
      parse: (text) => ok(text),
    });
    return reply.ok ? reply.value : "";
  });
}

/** Step body: the G answers under one version (the judging step reads them back without paying again). */
export async function replayRollouts(ctx: EvalContext, idx: number, version: number, library: readonly Experience[]): Promise<number> {
  if (await findScore(ctx.d, ctx.evaluation.id, version, idx)) return ctx.params.k;
  return (await answers(ctx, idx, version, await conversationAt(ctx, idx), library)).length;
}

/**
 * Step body: judges the 2G answers to capture `idx` and stores each version's G scores as its rewards.
 * An unusable verdict (after the call's format retries) fails the question: the evaluation then ends
 * failed rather than deciding on answers nobody judged.
 */
export async function judgeReplay(ctx: EvalContext, idx: number): Promise<{ candidate: number; baseline: number }> {
  const [candidate, baseline] = ctx.evaluation.versions as [number, number];
  const [doneA, doneB] = await Promise.all([
    findScore(ctx.d, ctx.evaluation.id, candidate, idx),
    findScore(ctx.d, ctx.evaluation.id, baseline, idx),
  ]);
  if (doneA && doneB) return { candidate: doneA.meanReward, baseline: doneB.meanReward };
  const replay = replayOf(ctx);
  const conversation = await conversationAt(ctx, idx);
  const [libA, libB] = await Promise.all([
    cachedVersionItems(ctx.d, ctx.agent.id, candidate),
    cachedVersionItems(ctx.d, ctx.agent.id, baseline),
  ]);
  const a = await answers(ctx, idx, candidate, conversation, libA);
  const b = await answers(ctx, idx, baseline, conversation, libB);
  const judgeCall = { ...ctx.call, model: replay.judgeModel ?? ctx.call.model };
  const g = ctx.params.k;
  let rewards: { candidate: number[]; baseline: number[] };
  if (replay.judge === "critique") {
    const order = critiqueOrder(g, ctx.params.seed, idx);
    const shown = order.map((attempt) => (attempt < g ? a[attempt] : b[attempt - g]) ?? "");
    const verdict = await callLlm(judgeCall, {
      key: `c${idx}/critique`,
      stage: "replay_critique",
      messages: replayCritiquePrompt({ objective: ctx.agent.objective, conversation, attempts: shown }),
      temperature: 0,
      seed: deriveSeed(ctx.params.seed, "replay-critique", idx),
      parse: (text) => parseCritiqueScores(text, 2 * g),
    });
    if (!verdict.ok) throw new PermanentStepError(`capture ${idx}: the critique was unusable: ${verdict.error}`);
    rewards = scoresByVersion(order, verdict.value, g);
  } else {
    const pairs = await mapLimit(
      Array.from({ length: g }, (_, j) => j),
      CONNECTIONS_PER_INVOCATION,
      async (j) => {
        const candidateIsA = candidateFirst(ctx.params.seed, idx, j);
        const [first, second] = candidateIsA ? [a[j], b[j]] : [b[j], a[j]];
        const verdict = await callLlm(judgeCall, {
          key: `c${idx}/p${j}/judge`,
          stage: "replay_judge",
          messages: pairJudgePrompt({ objective: ctx.agent.objective, conversation, a: first ?? "", b: second ?? "" }),
          temperature: 0,
          seed: deriveSeed(ctx.params.seed, "replay-judge", idx, j),
          parse: parsePairVerdict,
        });
        if (!verdict.ok) throw new PermanentStepError(`capture ${idx}, pair ${j}: the judge's verdict was unusable: ${verdict.error}`);
        return pairRewards(verdict.value, candidateIsA);
      },
    );
    rewards = { candidate: pairs.map((p) => p.candidate), baseline: pairs.map((p) => p.baseline) };
  }
  const base = { evaluationId: ctx.evaluation.id, sampleIdx: idx };
  await insertScore(ctx.d, { ...base, version: candidate, rewards: rewards.candidate, meanReward: groupMean(rewards.candidate) });
  await insertScore(ctx.d, { ...base, version: baseline, rewards: rewards.baseline, meanReward: groupMean(rewards.baseline) });
  return { candidate: groupMean(rewards.candidate), baseline: groupMean(rewards.baseline) };
}
