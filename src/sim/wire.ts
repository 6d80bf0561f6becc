/** OpenAI wire format of the simulated model: request schema, error shape, responses and SSE chunks. */
import { z } from "zod";

const ContentPart = z
  .looseObject({ type: z.string(), text: z.string().optional() })
  .refine((p) => p.type !== "text" || typeof p.text === "string", { message: "a text part needs a string `text`" });

const Message = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
  name: z.string().optional(),
});

const Tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const ChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(Message).min(1),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  seed: z.number().int().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  tools: z.array(Tool).nullish(),
});

export type ChatRequest = z.infer<typeof ChatRequestSchema>;
export type ChatMessageIn = ChatRequest["messages"][number];

/** Text of a message, whether its content is a string or an array of parts. */
export function messageText(m: ChatMessageIn): string {
  if (typeof m.content === "string") return m.content;
  if (!m.content) return "";
  return m.content
    .map((p) => (p.type === "text" && typeof p.text === "string" ? p.text : ""))
    .filter((t) => t !== "")
    .join("\n");
}

export function tokenCount(text: string): number {
  return Math.ceil(text.length / 4);
}

const JSON_HEADERS = { "content-type": "application/json" } as const;

export function errorResponse(
  status: number,
  message: string,
  code: string | null,
  param: string | null,
  type = "invalid_request_error",
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error: { message, type, code, param } }), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** 400 for a request body that fails the schema, naming the first offending parameter. */
export function validationError(error: z.ZodError): Response {
  const issue = error.issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : null;
  const missing = issue?.code === "invalid_type" && /received undefined/.test(issue.message);
  const message = issue ? `Invalid request: ${param ?? "body"}: ${issue.message}` : "Invalid request.";
  return errorResponse(400, message, missing ? "missing_required_parameter" : "invalid_value", param);
}

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

export type ToolCall = { id: string; name: string; arguments: string };
export type ChoiceOut = { content: string | null; toolCall: ToolCall | null; finish: "stop" | "length" | "tool_calls" };
export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
export type CompletionMeta = { id: string; created: number; model: string; fingerprint: string };

export function completionBody(meta: CompletionMeta, choices: readonly ChoiceOut[], usage: Usage): unknown {
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.fingerprint,
    choices: choices.map((c, index) => ({
      index,
      message: {
        role: "assistant",
        content: c.content,
        refusal: null,
        ...(c.toolCall
          ? { tool_calls: [{ id: c.toolCall.id, type: "function", function: { name: c.toolCall.name, arguments: c.toolCall.arguments } }] }
          : {}),
      },
      logprobs: null,
      finish_reason: c.finish,
    })),
    usage,
  };
}

/** Splits text into several stream deltas of a few words each. */
export function chunkText(text: string, wordsPerChunk = 4): string[] {
  const words = text.match(/\s*\S+\s*/g) ?? [text];
  const out: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerChunk) out.push(words.slice(i, i + wordsPerChunk).join(""));
  return out.length > 0 ? out : [""];
}

/** The `data:` payloads of a streamed completion, in order, without the final `[DONE]`. */
export function streamEvents(meta: CompletionMeta, choices: readonly ChoiceOut[], usage: Usage | null): unknown[] {
  const chunk = (delta: unknown, index: number, finish: string | null): unknown => ({
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    system_fingerprint: meta.fingerprint,
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
  });
  const events: unknown[] = [];
  choices.forEach((c, index) => {
    // As OpenAI streams: the text first (a reply may carry text and a tool call), then the call's
    // id and name, then its arguments in pieces; `content: null` only when there is no text at all.
    const text = c.content ?? "";
    events.push(chunk({ role: "assistant", content: c.toolCall && text === "" ? null : "" }, index, null));
    if (text !== "" || !c.toolCall) for (const piece of chunkText(text)) events.push(chunk({ content: piece }, index, null));
    if (c.toolCall) {
      events.push(
        chunk(
          { tool_calls: [{ index: 0, id: c.toolCall.id, type: "function", function: { name: c.toolCall.name, arguments: "" } }] },
          index,
          null,
        ),
      );
      for (const piece of chunkText(c.toolCall.arguments, 2)) {
        events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, index, null));
      }
    }
    events.push(chunk({}, index, c.finish));
  });
  if (usage) {
    events.push({
      id: meta.id,
      object: "chat.completion.chunk",
      created: meta.created,
      model: meta.model,
      system_fingerprint: meta.fingerprint,
      choices: [],
      usage,
    });
  }
  return events;
}

export type StreamFault = "truncate" | "malformed" | null;

/** SSE body. `truncate` cuts the stream before `[DONE]`; `malformed` slips in an unparsable data line. */
export function sseResponse(events: readonly unknown[], fault: StreamFault): Response {
  const enc = new TextEncoder();
  const lines = events.map((e) => `data: ${JSON.stringify(e)}\n\n`);
  if (fault === "truncate") lines.splice(Math.max(2, Math.floor(lines.length / 2)));
  else {
    if (fault === "malformed") lines.splice(Math.floor(lines.length / 2), 0, `data: {"id":"broken","choices":[{"delta":{"content":\n\n`);
    lines.push("data: [DONE]\n\n");
  }
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const line = lines[i++];
      if (line === undefined) controller.close();
      else controller.enqueue(enc.encode(line));
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" },
  });
}
