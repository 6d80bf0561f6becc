import type { ChatMessage } from "../core/prompts";
import type { ToolBox } from "../tools/dispatch";
import { countToolCalls, type TrajectoryMessage } from "../tools/messages";
import type { CallContext } from "./llmCall";
import { reactRollout } from "./reactRollout";

/** Bytes of a trajectory kept in a rollout row (D1 rows hold at most 2 MB); tool outputs are cut to fit. */
export const MAX_STORED_TRAJECTORY_BYTES = 1024 * 1024;

/** Cuts tool outputs, longest first, until the trajectory fits the row budget. */
export function fitTrajectory(messages: TrajectoryMessage[], budget = MAX_STORED_TRAJECTORY_BYTES): TrajectoryMessage[] {
  const size = () => new TextEncoder().encode(JSON.stringify(messages)).length;
  let over = size() - budget;
  if (over <= 0) return messages;
  const out = messages.map((m) => ({ ...m }));
  const tools = out
    .filter((m): m is Extract<TrajectoryMessage, { role: "tool" }> => m.role === "tool")
    .sort((a, b) => b.content.length - a.content.length);
  for (const m of tools) {
    if (over <= 0) break;
    const keep = Math.max(200, m.content.length - over - 100);
    over -= m.content.length - keep;
    m.content = `${m.content.slice(0, keep)}… [truncated for storage]`;
  }
  return out;
}

/** One tool-using rollout (training or evaluation): final text, stored trajectory and its tool-call count. */
export async function toolRollout(
  call: CallContext,
  tools: ToolBox,
  spec: { key: string; messages: ChatMessage[]; maxTurns: number; temperature: number; seed: number },
): Promise<{ response: string; trajectory: TrajectoryMessage[]; toolCalls: number }> {
  const outcome = await reactRollout(call, { ...spec, tools });
  return { response: outcome.final, trajectory: fitTrajectory(outcome.messages), toolCalls: countToolCalls(outcome.messages) };
}
