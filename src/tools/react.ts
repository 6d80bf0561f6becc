import type { ToolCallMessage, TrajectoryMessage } from "./messages";

/** One model reply inside the loop. */
export type AssistantTurn = { content: string | null; toolCalls: ToolCallMessage[] };

/** Tool calls of one reply run at once (bounded, to respect the invocation's connection limit). */
export const PARALLEL_TOOL_CALLS = 4;
/** Calls beyond this many in one reply are answered with an error instead of being run. */
export const MAX_CALLS_PER_TURN = 8;

export type ReactDeps = {
  /** Turn `t` of the model with the conversation so far (idempotent: stored under a key of t). */
  turn(t: number, messages: readonly TrajectoryMessage[]): Promise<AssistantTurn>;
  /** The result of call `i` of turn `t`, as the tool message content (idempotent, never throws for tool faults). */
  execute(t: number, i: number, call: ToolCallMessage): Promise<string>;
};

export type ReactOutcome = {
  messages: TrajectoryMessage[];
  /** The last assistant text: what the verifier scores. */
  final: string;
  toolCalls: number;
  turns: number;
  endedBy: "answer" | "max_turns";
};

async function mapBounded<T, R>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}

/**
 * A ReAct rollout: send the conversation, run every tool call of the reply, append the `tool` messages,
 * and repeat until a reply calls no tool or `maxTurns` replies were made (the rollout then ends as it
 * stands and is scored on its last text). The loop itself is pure; storage lives in `deps`.
 */
export async function runReact(initial: readonly TrajectoryMessage[], maxTurns: number, deps: ReactDeps): Promise<ReactOutcome> {
  const messages: TrajectoryMessage[] = [...initial];
  let toolCalls = 0;
  let final = "";
  for (let t = 0; t < maxTurns; t++) {
    const reply = await deps.turn(t, messages);
    if (reply.content !== null && reply.content.trim() !== "") final = reply.content;
    if (reply.toolCalls.length === 0) {
      messages.push({ role: "assistant", content: reply.content ?? "" });
      return { messages, final, toolCalls, turns: t + 1, endedBy: "answer" };
    }
    messages.push({ role: "assistant", content: reply.content, tool_calls: reply.toolCalls });
    const runnable = reply.toolCalls.slice(0, MAX_CALLS_PER_TURN);
    const results = await mapBounded(runnable, PARALLEL_TOOL_CALLS, (call, i) => deps.execute(t, i, call));
    toolCalls += runnable.length;
    reply.toolCalls.forEach((call, i) => {
      const content = results[i] ?? JSON.stringify({ error: `too many tool calls in one reply: at most ${MAX_CALLS_PER_TURN} are run` });
      messages.push({ role: "tool", tool_call_id: call.id, content });
    });
  }
  return { messages, final, toolCalls, turns: maxTurns, endedBy: "max_turns" };
}
