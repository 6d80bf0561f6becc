/**
 * Reading a proxied exchange for learning, pure: the question is the last user message of the
 * request; the answer the assistant text of the response, from a JSON body or an SSE stream.
 */

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === "object" && part !== null && Reflect.get(part, "type") === "text" ? String(Reflect.get(part, "text") ?? "") : "",
      )
      .filter((t) => t !== "")
      .join("\n");
  }
  return "";
}

/** Text of the last `user` message of a chat request body, or "" when there is none. */
export function questionOf(request: unknown): string {
  if (typeof request !== "object" || request === null) return "";
  const messages: unknown = Reflect.get(request, "messages");
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    const m: unknown = messages[i];
    if (typeof m === "object" && m !== null && Reflect.get(m, "role") === "user") return textOf(Reflect.get(m, "content"));
  }
  return "";
}

function firstChoice(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return null;
  const choices: unknown = Reflect.get(value, "choices");
  return Array.isArray(choices)
    ? (choices.find((c: unknown) => typeof c === "object" && c !== null && (Reflect.get(c, "index") ?? 0) === 0) ?? null)
    : null;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The assistant text of choice 0 of an OpenAI chat response body (JSON or SSE); "" when unreadable. */
export function responseTextOf(kind: "sse" | "json" | "other", body: string): string {
  if (kind === "json") {
    const choice = firstChoice(parse(body));
    const message: unknown = choice ? Reflect.get(choice as object, "message") : null;
    return typeof message === "object" && message !== null ? textOf(Reflect.get(message, "content")) : "";
  }
  if (kind === "sse") {
    let out = "";
    for (const line of body.split(/\r?\n/)) {
      const data = /^data:\s?(.*)$/.exec(line)?.[1];
      if (data === undefined || data.trim() === "[DONE]") continue;
      const choice = firstChoice(parse(data));
      const delta: unknown = choice ? Reflect.get(choice as object, "delta") : null;
      if (typeof delta === "object" && delta !== null) out += textOf(Reflect.get(delta, "content"));
    }
    return out;
  }
  return "";
}
