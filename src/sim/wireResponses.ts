/** OpenAI Responses API of the simulated model: requests mapped onto the chat pipeline, replies and events. */
import { blockText, isObject, namedSse, type Dialect } from "./dialect";
import { chunkText, errorResponse, type ChoiceOut, type CompletionMeta, type StreamFault, type Usage } from "./wire";

const JSON_HEADERS = { "content-type": "application/json" } as const;

/** One input item → chat messages: messages (any role), `function_call` → tool_calls, `function_call_output` → tool. */
function toChatMessages(item: unknown): unknown[] {
  if (!isObject(item)) return [];
  if (item.type === "function_call") {
    return [
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: String(item.call_id), type: "function", function: { name: String(item.name), arguments: String(item.arguments ?? "") } },
        ],
      },
    ];
  }
  if (item.type === "function_call_output")
    return [
      { role: "tool", tool_call_id: String(item.call_id), content: typeof item.output === "string" ? item.output : blockText(item.output) },
    ];
  if (typeof item.role === "string") return [{ role: item.role, content: blockText(item.content) }];
  return [];
}

function toChat(raw: unknown): { chat: unknown } | { error: Response } {
  if (!isObject(raw)) return { error: errorResponse(400, "Request body must be a JSON object.", "invalid_json", null) };
  const input =
    typeof raw.input === "string"
      ? [{ role: "user", content: raw.input }]
      : Array.isArray(raw.input)
        ? raw.input.flatMap(toChatMessages)
        : [];
  if (input.length === 0)
    return { error: errorResponse(400, "Missing required parameter: 'input'.", "missing_required_parameter", "input") };
  const instructions =
    typeof raw.instructions === "string" && raw.instructions !== "" ? [{ role: "system", content: raw.instructions }] : [];
  const tools = Array.isArray(raw.tools)
    ? raw.tools
        .filter((t) => isObject(t) && t.type === "function")
        .map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters } }))
    : undefined;
  return {
    chat: {
      model: raw.model,
      messages: [...instructions, ...input],
      temperature: raw.temperature,
      max_tokens: raw.max_output_tokens,
      stream: raw.stream,
      seed: raw.seed,
      tools,
    },
  };
}

function reply(meta: CompletionMeta, choice: ChoiceOut, usage: Usage, stream: boolean, fault: StreamFault): Response {
  const id = meta.id.replace(/^chatcmpl-sim-/, "resp_sim_");
  const itemId = `${choice.toolCall ? "fc" : "msg"}_${id.slice(9, 29)}`;
  const usageOut = {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.total_tokens,
  };
  const text = choice.content ?? "";
  const part = { type: "output_text", text, annotations: [] };
  const item = choice.toolCall
    ? {
        type: "function_call",
        id: itemId,
        call_id: choice.toolCall.id,
        name: choice.toolCall.name,
        arguments: choice.toolCall.arguments,
        status: "completed",
      }
    : { type: "message", id: itemId, status: "completed", role: "assistant", content: [part] };
  const response = {
    id,
    object: "response",
    created_at: meta.created,
    status: choice.finish === "length" ? "incomplete" : "completed",
    incomplete_details: choice.finish === "length" ? { reason: "max_output_tokens" } : null,
    error: null,
    model: meta.model,
    output: [item],
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
    usage: usageOut,
  };
  if (!stream) {
    const body = JSON.stringify(response);
    if (fault === "truncate" || fault === "malformed")
      return new Response(body.slice(0, Math.floor(body.length / 2)), { status: 200, headers: JSON_HEADERS });
    return new Response(body, { status: 200, headers: JSON_HEADERS });
  }
  let seq = 0;
  const ev = (type: string, fields: Record<string, unknown>) => ({ event: type, data: { type, sequence_number: seq++, ...fields } });
  const pending = { ...response, status: "in_progress", output: [], usage: null };
  const events = [ev("response.created", { response: pending }), ev("response.in_progress", { response: pending })];
  if (choice.toolCall) {
    events.push(ev("response.output_item.added", { output_index: 0, item: { ...item, arguments: "", status: "in_progress" } }));
    for (const piece of chunkText(choice.toolCall.arguments, 2))
      events.push(ev("response.function_call_arguments.delta", { item_id: itemId, output_index: 0, delta: piece }));
    events.push(ev("response.function_call_arguments.done", { item_id: itemId, output_index: 0, arguments: choice.toolCall.arguments }));
  } else {
    events.push(ev("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } }));
    events.push(ev("response.content_part.added", { item_id: itemId, output_index: 0, content_index: 0, part: { ...part, text: "" } }));
    for (const piece of chunkText(text))
      events.push(ev("response.output_text.delta", { item_id: itemId, output_index: 0, content_index: 0, delta: piece, logprobs: [] }));
    events.push(ev("response.output_text.done", { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] }));
    events.push(ev("response.content_part.done", { item_id: itemId, output_index: 0, content_index: 0, part }));
  }
  events.push(ev("response.output_item.done", { output_index: 0, item }));
  events.push(ev(response.status === "completed" ? "response.completed" : "response.incomplete", { response }));
  return namedSse(events, fault);
}

export const responsesDialect: Dialect = {
  toChat,
  reply,
  error: (status, message, type, headers) => errorResponse(status, message, null, null, type, headers),
};
