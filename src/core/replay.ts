import { deriveSeed, seededShuffle } from "./batching";
import { contentText, requestInstructions, requestMessages } from "./capture";
import { injectLibrary, type InjectPosition } from "./inject";
import { type Experience, renderLibrary } from "./library";
import type { ChatMessage } from "./prompts";

/**
 * The replay comparison, pure (docs/ownership.md, "Replay gate"): held-out captured requests are sent
 * again G times under each of two libraries, and the answers are judged against each other without a
 * label. Here: which captures, what is sent, and how judged attempts map back to the two versions.
 */

/** Captures replayed at most, and rollouts per capture and version. */
export const MAX_REPLAY_SAMPLE = 200;
export const MAX_REPLAY_G = 8;
/** critique: all 2G answers of a capture scored at once, against each other; pairwise: one verdict per pair. */
export const REPLAY_JUDGES = ["critique", "pairwise"] as const;
export type ReplayJudge = (typeof REPLAY_JUDGES)[number];
/** Defaults of a replay evaluation and of a replay gate: rollouts at the training temperature. */
export const REPLAY_DEFAULTS = { sample: 50, g: 4, temperature: 0.7, judge: "critique" } as const;

/**
 * `sample` request ids out of the eligible ones, chosen by the seed alone (the same seed picks the same
 * captures, whatever order the database lists them in).
 */
export function pickCaptures(requestIds: readonly string[], sample: number, seed: number): string[] {
  const unique = [...new Set(requestIds)];
  return unique
    .map((id) => ({ id, key: deriveSeed(seed, "replay-pick", id) }))
    .sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : 1))
    .slice(0, Math.max(0, sample))
    .map((c) => c.id);
}

/**
 * The text conversation of a captured request, in any surface's format: its instructions (Anthropic's
 * top-level `system`, the Responses API's `instructions`) and system or developer messages as system,
 * user and assistant text as is; tool messages, function calls and parts other than text are left out,
 * since a replay cannot run the client's tools. Null when no user message has text.
 */
export function capturedConversation(request: unknown): ChatMessage[] | null {
  const out: ChatMessage[] = [];
  const instructions = requestInstructions(request);
  if (instructions !== "") out.push({ role: "system", content: instructions });
  for (const m of requestMessages(request)) {
    const content = contentText(m.content);
    if (content === "") continue;
    if (m.role === "system" || m.role === "developer") out.push({ role: "system", content });
    else if (m.role === "user" || m.role === "assistant") out.push({ role: m.role, content });
  }
  return out.some((m) => m.role === "user") ? out : null;
}

/** What one replay rollout sends: the conversation with the library merged in exactly as the chat endpoint does. */
export function replayMessages(
  conversation: readonly ChatMessage[],
  library: readonly Experience[],
  position: InjectPosition,
): ChatMessage[] {
  return injectLibrary(conversation, renderLibrary(library), position);
}

/**
 * The order in which the 2G attempts of one capture are shown to the critique: a permutation fixed by
 * (seed, capture), so neither version is always listed first. `order[p]` is the attempt shown at
 * position p: 0..G-1 are the candidate's, G..2G-1 the baseline's.
 */
export function critiqueOrder(g: number, seed: number, capture: number): number[] {
  return seededShuffle(2 * g, deriveSeed(seed, "replay-order"), capture);
}

/** Scores by shown position → the candidate's G rewards and the baseline's, in rollout order. */
export function scoresByVersion(
  order: readonly number[],
  scores: readonly number[],
  g: number,
): { candidate: number[]; baseline: number[] } {
  const byAttempt = new Array<number>(2 * g).fill(0);
  for (const [position, attempt] of order.entries()) byAttempt[attempt] = scores[position] ?? 0;
  return { candidate: byAttempt.slice(0, g), baseline: byAttempt.slice(g) };
}

/** Whether pair j shows the candidate's answer as "A": alternates by a seeded coin, against position bias. */
export function candidateFirst(seed: number, capture: number, pair: number): boolean {
  return deriveSeed(seed, "replay-pair", capture, pair) % 2 === 0;
}

/** A pairwise verdict as rewards: the winner 1, the loser 0, a tie ½ each. */
export function pairRewards(winner: "A" | "B" | "tie", candidateIsA: boolean): { candidate: number; baseline: number } {
  if (winner === "tie") return { candidate: 0.5, baseline: 0.5 };
  const candidateWon = (winner === "A") === candidateIsA;
  return { candidate: candidateWon ? 1 : 0, baseline: candidateWon ? 0 : 1 };
}
