/**
 * Puts a rendered experience library in front of a conversation. Pure and shared by serving and
 * training, so a library is trained with exactly the prompt shape it is served with.
 *
 * Rules:
 * - The library is merged into the first `system` (or `developer`) message: after the message's text,
 *   separated by a blank line ("after", the default), or before it ("before").
 * - With no such message, one system message holding only the library is inserted at the start.
 *   Never a second system message: some providers reject two.
 * - Content-part arrays get one extra `{ type: "text", text }` part, at the end or the start.
 * - An empty rendering leaves the messages as they are (a shallow copy of the array is returned).
 * - Inputs are never mutated; every other field of every message is kept as is, so the output is
 *   byte-for-byte the same for the same input and library.
 */

export type InjectPosition = "before" | "after";

/** Any chat message: a role and content, plus whatever fields the client's API version adds. */
export type MessageLike = { role: string; content?: unknown };

/** The message inserted when the conversation has no system or developer message. */
export type InjectedSystemMessage = { role: "system"; content: string };

/** Blank line between the client's instructions and the library. */
export const INJECT_SEPARATOR = "\n\n";

const isInstructionRole = (role: string) => role === "system" || role === "developer";

function mergeText(existing: string, rendered: string, position: InjectPosition): string {
  if (existing === "") return rendered;
  return position === "after" ? `${existing}${INJECT_SEPARATOR}${rendered}` : `${rendered}${INJECT_SEPARATOR}${existing}`;
}

function mergeContent(content: unknown, rendered: string, position: InjectPosition): unknown {
  if (typeof content === "string") return mergeText(content, rendered, position);
  if (Array.isArray(content)) {
    const part = { type: "text", text: rendered };
    return position === "after" ? [...content, part] : [part, ...content];
  }
  // null, undefined or a shape we do not know: the library becomes the whole text.
  return rendered;
}

export function injectLibrary<M extends MessageLike>(
  messages: readonly M[],
  renderedLibrary: string,
  position: InjectPosition = "after",
): (M | InjectedSystemMessage)[] {
  if (renderedLibrary === "") return messages.slice();
  const index = messages.findIndex((m) => isInstructionRole(m.role));
  if (index === -1) return [{ role: "system", content: renderedLibrary }, ...messages];
  const out: (M | InjectedSystemMessage)[] = messages.slice();
  const target = messages[index] as M;
  out[index] = { ...target, content: mergeContent(target.content, renderedLibrary, position) };
  return out;
}

/**
 * The Responses API's `instructions` (a string, or absent): the library merged into it like into a
 * system message's text; absent or empty instructions become the library alone.
 */
export function injectInstructions(
  instructions: string | null | undefined,
  renderedLibrary: string,
  position: InjectPosition = "after",
): string | null | undefined {
  if (renderedLibrary === "") return instructions;
  return mergeText(instructions ?? "", renderedLibrary, position);
}

/** An Anthropic system text block; other fields (`cache_control`, `citations`…) are kept as they are. */
export type SystemBlock = { type: string; text?: unknown } & Record<string, unknown>;

/**
 * The Anthropic Messages API's top-level `system` (a string, text blocks, or absent). The library is
 * merged into the text of an existing block — the last text block ("after") or the first ("before") —
 * never added as a block of its own: the block keeps its `cache_control`, so a prompt-cache breakpoint
 * the client set on it still covers the library, which renders byte-for-byte the same every time.
 */
export function injectSystem(
  system: string | readonly SystemBlock[] | null | undefined,
  renderedLibrary: string,
  position: InjectPosition = "after",
): string | SystemBlock[] | null | undefined {
  if (renderedLibrary === "") return Array.isArray(system) ? system.slice() : (system as string | null | undefined);
  if (typeof system === "string") return mergeText(system, renderedLibrary, position);
  if (!Array.isArray(system) || system.length === 0) return renderedLibrary;
  const blocks: readonly SystemBlock[] = system;
  const isText = (b: SystemBlock) => b.type === "text" && typeof b.text === "string";
  let index = blocks.findIndex(isText);
  if (position === "after") for (let i = blocks.length - 1; i > index; i--) if (isText(blocks[i] as SystemBlock)) index = i;
  // No text block to merge into (unusual): the library becomes the one text block.
  if (index === -1)
    return position === "after"
      ? [...blocks, { type: "text", text: renderedLibrary }]
      : [{ type: "text", text: renderedLibrary }, ...blocks];
  const out = blocks.slice();
  const target = blocks[index] as SystemBlock;
  out[index] = { ...target, text: mergeText(target.text as string, renderedLibrary, position) };
  return out;
}
