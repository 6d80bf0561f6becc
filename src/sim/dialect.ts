/** How a wire format other than chat completions maps onto the simulated model's chat pipeline. */
import type { ChoiceOut, CompletionMeta, StreamFault, Usage } from "./wire";

export type Dialect = {
  /** The request as a chat-completions request (validated by ChatRequestSchema afterwards), or an error reply. */
  toChat(raw: unknown): { chat: unknown } | { error: Response };
  /** The reply (one choice) in this format: JSON, or SSE when `stream`. */
  reply(meta: CompletionMeta, choice: ChoiceOut, usage: Usage, stream: boolean, fault: StreamFault): Response;
  error(status: number, message: string, type: string, headers?: Record<string, string>): Response;
};

/** A request's seed for formats that have no `seed` field (Anthropic's): read when the body names none. */
export const SEED_HEADER = "x-tfgrpo-seed";

/** SSE with named events (`event:` then `data:`), as the Responses and Messages APIs stream. */
export function namedSse(events: readonly { event: string; data: unknown }[], fault: StreamFault): Response {
  const enc = new TextEncoder();
  const lines = events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
  if (fault === "truncate") lines.splice(Math.max(2, Math.floor(lines.length / 2)));
  else if (fault === "malformed") lines.splice(Math.floor(lines.length / 2), 0, `event: broken\ndata: {"type":\n\n`);
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const line = lines[i++];
      if (line === undefined) controller.close();
      else controller.enqueue(enc.encode(line));
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } });
}

/** Text of a content field given as a string or as blocks/parts carrying `text`. */
export function blockText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b: unknown) =>
      typeof b === "object" && b !== null && typeof Reflect.get(b, "text") === "string" ? (Reflect.get(b, "text") as string) : "",
    )
    .filter((t) => t !== "")
    .join("\n");
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
