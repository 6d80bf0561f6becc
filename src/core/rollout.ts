import { injectLibrary } from "./inject";
import { renderLibrary, type Experience } from "./library";
import type { ChatMessage } from "./prompts";

/**
 * The messages of one training or evaluation rollout: the agent's own prompt with the library injected
 * by the very function the chat endpoint uses, so a library is trained exactly as it is served.
 */
export function rolloutMessages(
  agent: { systemPrompt: string; injectPosition: "before" | "after" },
  question: string,
  library: readonly Experience[],
): ChatMessage[] {
  const base: ChatMessage[] = agent.systemPrompt.trim() === "" ? [] : [{ role: "system", content: agent.systemPrompt }];
  base.push({ role: "user", content: question });
  return injectLibrary(base, renderLibrary(library), agent.injectPosition);
}
