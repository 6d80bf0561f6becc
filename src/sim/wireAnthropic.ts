/** Anthropic Messages API of the simulated model: requests mapped onto the chat pipeline, replies and events. */
import { blockText, isObject, namedSse, parseArguments, type Dialect } from "./dialect";
import type { ChoiceOut, CompletionMeta, StreamFault, Usage } from "./wire";

const JSON_HEADERS = { "content-type": "application/json" } as const;

function error(status: number, message: string, type: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ type: "error", error: { type, message } }), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** One Anthropic message → chat messages: text, assistant `tool_use` → tool_calls, user `tool_result` → tool messages. */
function toChatMessages(m: Record<string, unknown>): unknown[] {
  const role = m.role;
  if (typeof m.content === "string" || !Array.isArray(m.content)) return [{ role, content: blockText(m.content) }];
  const blocks = m.content.filter(isObject);
  if (role === "assistant") {
    const calls = blocks
      .filter((b) => b.type === "tool_use")
      .map((b) => ({ id: String(b.id), type: "function", function: { name: String(b.name), arguments: JSON.stringify(b.input ?? {}) } }));
    const text = blockText(blocks.filter((b) => b.type === "text"));
    return [{ role, content: calls.length > 0 && text === "" ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) }];
  }
  const results = blocks
    .filter((b) => b.type === "tool_result")
    .map((b) => ({ role: "tool", tool_call_id: String(b.tool_use_id), content: blockText(b.content) }));
  const text = blockText(blocks.filter((b) => b.type === "text"));
  return [...results, ...(text !== "" || results.length === 0 ? [{ role, content: text }] : [])];
}

function toChat(raw: unknown): { chat: unknown } | { error: Response } {
  if (!isObject(raw)) return { error: error(400, "Request body must be a JSON object.", "invalid_request_error") };
  if (typeof raw.max_tokens !== "number") return { error: error(400, "max_tokens: Field required", "invalid_request_error") };
  if (!Array.isArray(raw.messages)) return { error: error(400, "messages: Field required", "invalid_request_error") };
  const system = blockText(raw.system);
  const messages = [
    ...(system !== "" ? [{ role: "system", content: system }] : []),
    ...raw.messages.filter(isObject).flatMap(toChatMessages),
  ];
  const tools = Array.isArray(raw.tools)
    ? raw.tools
        .filter(isObject)
        .map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.input_schema } }))
    : undefined;
  return {
    chat: {
      model: raw.model,
      messages,
      temperature: raw.temperature,
      max_tokens: raw.max_tokens,
      stream: raw.stream,
      seed: raw.seed,
      tools,
    },
  };
}

const stopReason = (c: ChoiceOut) => (c.finish === "tool_calls" ? "tool_use" : c.finish === "length" ? "max_tokens" : "end_turn");

function reply(meta: CompletionMeta, choice: ChoiceOut, usage: Usage, stream: boolean, fault: StreamFault): Response {
  const id = meta.id.replace(/^chatcmpl-sim-/, "msg_sim_");
  const toolId = choice.toolCall ? `toolu_${choice.toolCall.id.replace(/^call_/, "")}` : "";
  const usageOut = {
    input_tokens: usage.prompt_tokens,
    output_tokens: usage.completion_tokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  const block = choice.toolCall
    ? { type: "tool_use", id: toolId, name: choice.toolCall.name, input: parseArguments(choice.toolCall.arguments) }
    : { type: "text", text: choice.content ?? "" };
  const message = {
    id,
    type: "message",
    role: "assistant",
    model: meta.model,
    content: [block],
    stop_reason: stopReason(choice),
    stop_sequence: null,
    usage: usageOut,
  };
  if (!stream) {
    const body = JSON.stringify(message);
    if (fault === "truncate" || fault === "malformed")
      return new Response(body.slice(0, Math.floor(body.length / 2)), { status: 200, headers: JSON_HEADERS });
    return new Response(body, { status: 200, headers: JSON_HEADERS });
  }
  const events: { event: string; data: unknown }[] = [
    {
      event: "message_start",
      data: { type: "message_start", message: { ...message, content: [], stop_reason: null, usage: { ...usageOut, output_tokens: 1 } } },
    },
    {
      event: "content_block_start",
      data: {
        type: "content_block_start",
        index: 0,
        content_block: choice.toolCall ? { ...block, input: {} } : { type: "text", text: "" },
      },
    },
    { event: "ping", data: { type: "ping" } },
  ];
  const pieces = choice.toolCall ? chunk(choice.toolCall.arguments, 12) : chunk(choice.content ?? "", 16);
  for (const piece of pieces) {
    const delta = choice.toolCall ? { type: "input_json_delta", partial_json: piece } : { type: "text_delta", text: piece };
    events.push({ event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta } });
  }
  events.push(
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    {
      event: "message_delta",
      data: {
        type: "message_delta",
        delta: { stop_reason: stopReason(choice), stop_sequence: null },
        usage: { output_tokens: usage.completion_tokens },
      },
    },
    { event: "message_stop", data: { type: "message_stop" } },
  );
  return namedSse(events, fault);
}

/** Splits text into pieces of about `size` characters (stream deltas). */
function chunk(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export const anthropicDialect: Dialect = { toChat, reply, error };
