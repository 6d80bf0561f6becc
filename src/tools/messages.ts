/** OpenAI-format messages of a tool-using rollout, and how a trajectory is shown to the reflection stages. */

export type ToolCallMessage = { id: string; type: "function"; function: { name: string; arguments: string } };

export type TrajectoryMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCallMessage[] }
  | { role: "tool"; tool_call_id: string; content: string };

/** A function tool as sent in a chat request's `tools`. */
export type FunctionTool = { type: "function"; function: { name: string; description?: string; parameters?: Record<string, unknown> } };

export function countToolCalls(messages: readonly TrajectoryMessage[]): number {
  return messages.reduce((n, m) => n + (m.role === "assistant" ? (m.tool_calls?.length ?? 0) : 0), 0);
}

/** Characters of one tool result shown to the reflection prompts; longer results are cut and marked. */
export const DEFAULT_REFLECTION_TOOL_CHARS = 2_000;

function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… [${text.length - limit} more characters truncated]`;
}

/**
 * The model's side of a trajectory as text for the summary prompt: every assistant turn, each tool call
 * with its arguments and its result (long results truncated), as the official code pastes the
 * trajectory into the single-rollout summary. The system and user messages are in the prompt already.
 */
export function renderTrajectory(messages: readonly TrajectoryMessage[], toolChars = DEFAULT_REFLECTION_TOOL_CHARS): string {
  const results = new Map<string, string>();
  for (const m of messages) if (m.role === "tool") results.set(m.tool_call_id, m.content);
  const out: string[] = [];
  let turn = 0;
  for (const m of messages) {
    if (m.role !== "assistant") continue;
    turn += 1;
    if (m.content && m.content.trim() !== "") out.push(m.content.trim());
    for (const call of m.tool_calls ?? []) {
      out.push(`[turn ${turn}] Tool call ${call.function.name}(${cut(call.function.arguments, toolChars)})`);
      out.push(`[turn ${turn}] Tool result: ${cut(results.get(call.id) ?? "(no result)", toolChars)}`);
    }
  }
  return out.join("\n");
}
