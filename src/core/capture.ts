/**
 * Reading a proxied exchange for learning, pure, in the wire format of each surface (docs/serving.md,
 * "Surfaces"): the question is the last user message of the request; the answer the assistant text of
 * the response, from a JSON body or an SSE stream. The format is told by the body's shape, so a row
 * needs no surface column: chat completions (`messages`, `choices`), the Responses API (`input`,
 * `output` items, `response.output_text.delta` events) and Anthropic's Messages API (`messages` with
 * content blocks, a `message` reply, `content_block_delta` events).
 */

/** Text parts of every format: chat's and Anthropic's `text`, the Responses API's `input_text` and `output_text`. */
const TEXT_PARTS = new Set(["text", "input_text", "output_text"]);

const get = (o: unknown, k: string): unknown => (typeof o === "object" && o !== null ? Reflect.get(o, k) : undefined);

/** The text of a message's content: a string, or the text parts of a part list joined by newlines. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) => {
        const type = get(part, "type");
        return typeof type === "string" && TEXT_PARTS.has(type) ? String(get(part, "text") ?? "") : "";
      })
      .filter((t) => t !== "")
      .join("\n");
  }
  return "";
}

/**
 * The conversation items of a request: `messages` (chat completions, Anthropic), or the Responses API's
 * `input` (a string is one user message; items without a role, such as function calls, are skipped).
 */
export function requestMessages(request: unknown): { role: unknown; content: unknown }[] {
  const messages = get(request, "messages");
  const input = get(request, "input");
  const list = Array.isArray(messages)
    ? messages
    : typeof input === "string"
      ? [{ role: "user", content: input }]
      : Array.isArray(input)
        ? input
        : [];
  return list
    .filter((m: unknown) => typeof m === "object" && m !== null)
    .map((m: unknown) => ({ role: get(m, "role"), content: get(m, "content") }));
}

/** The instructions a request carries outside its messages: Anthropic's top-level `system`, the Responses API's `instructions`. */
export function requestInstructions(request: unknown): string {
  return contentText(get(request, "system") ?? get(request, "instructions"));
}

/** Text of the last `user` message of a request body, or "" when there is none. */
export function questionOf(request: unknown): string {
  const messages = requestMessages(request);
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === "user") return contentText(messages[i]?.content);
  }
  return "";
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function firstChoice(value: unknown): unknown {
  const choices = get(value, "choices");
  return Array.isArray(choices) ? (choices.find((c: unknown) => (get(c, "index") ?? 0) === 0) ?? null) : null;
}

/** The assistant text of a complete reply: chat's choice 0, the Responses API's message items, Anthropic's text blocks. */
function replyText(reply: unknown): string {
  if (get(reply, "choices") !== undefined) return contentText(get(get(firstChoice(reply), "message"), "content"));
  const output = get(reply, "output");
  if (Array.isArray(output)) {
    return output
      .filter((item: unknown) => get(item, "type") === "message")
      .map((item: unknown) => contentText(get(item, "content")))
      .filter((t) => t !== "")
      .join("\n");
  }
  if (get(reply, "type") === "message") return contentText(get(reply, "content"));
  return "";
}

/** The generated text one stream event adds, in any of the three formats. */
function eventText(event: unknown): string {
  if (get(event, "choices") !== undefined) return contentText(get(get(firstChoice(event), "delta"), "content"));
  const type = get(event, "type");
  if (type === "response.output_text.delta") return String(get(event, "delta") ?? "");
  if (type === "content_block_delta" && get(get(event, "delta"), "type") === "text_delta")
    return String(get(get(event, "delta"), "text") ?? "");
  return "";
}

/** The assistant text of a response body (JSON or SSE) in any of the three formats; "" when unreadable. */
export function responseTextOf(kind: "sse" | "json" | "other", body: string): string {
  if (kind === "json") return replyText(parse(body));
  if (kind === "sse") {
    let out = "";
    for (const line of body.split(/\r?\n/)) {
      const data = /^data:\s?(.*)$/.exec(line)?.[1];
      if (data === undefined || data.trim() === "[DONE]") continue;
      out += eventText(parse(data));
    }
    return out;
  }
  return "";
}
