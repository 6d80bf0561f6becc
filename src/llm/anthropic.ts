/**
 * Training, evaluation and the gate speak chat completions (client.ts); an agent whose upstream
 * speaks Anthropic's Messages API gets its calls translated at the edge of the network: the request
 * into a Messages request (system prompt, tool_use / tool_result blocks), the reply back into a chat
 * completion. Pure functions plus one `send` wrapper (docs/serving.md, "Upstream formats").
 */
import type { UpstreamFetch } from "./client";
import { SEED_HEADER } from "../sim";

/** Anthropic requires `max_tokens`; a call that names none gets this. */
export const DEFAULT_MAX_TOKENS = 4096;

/**
 * Anthropic has no `seed`; the call's seed travels in SEED_HEADER instead, which the simulated model
 * reads and real providers ignore, so rollouts of a simulated Anthropic upstream stay reproducible.
 */

type ChatMessage = { role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: unknown };
type Block = Record<string, unknown> & { type: string };
type AnthropicMessage = { role: "user" | "assistant"; content: Block[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function text(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (isObject(p) && typeof p.text === "string" ? p.text : "")).join("");
}

function parseInput(args: unknown): unknown {
  try {
    const parsed: unknown = JSON.parse(typeof args === "string" && args !== "" ? args : "{}");
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Blocks of one chat message in Anthropic's form (assistant tool calls → tool_use, tool → tool_result). */
function blocksOf(m: ChatMessage): Block[] {
  if (m.role === "tool") return [{ type: "tool_result", tool_use_id: String(m.tool_call_id ?? ""), content: text(m.content) }];
  const out: Block[] = [];
  const body = text(m.content);
  if (body !== "") out.push({ type: "text", text: body });
  if (m.role === "assistant" && Array.isArray(m.tool_calls)) {
    for (const call of m.tool_calls) {
      if (!isObject(call) || !isObject(call.function)) continue;
      out.push({ type: "tool_use", id: String(call.id), name: String(call.function.name), input: parseInput(call.function.arguments) });
    }
  }
  return out;
}

/**
 * A chat-completions request as a Messages request: system and developer messages joined into
 * `system`; tool results become user turns; consecutive turns of one role are merged (the Messages
 * API wants them alternating); temperature capped at 1 (Anthropic's range); tools as `input_schema`.
 */
export function chatToMessages(body: Record<string, unknown>): Record<string, unknown> {
  const messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : [];
  const system = messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .map((m) => text(m.content))
    .filter((t) => t !== "")
    .join("\n\n");
  const turns: AnthropicMessage[] = [];
  for (const m of messages) {
    if (m.role === "system" || m.role === "developer") continue;
    const role = m.role === "assistant" ? "assistant" : "user";
    const blocks = blocksOf(m);
    if (blocks.length === 0) continue;
    const last = turns.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  }
  const tools = Array.isArray(body.tools)
    ? body.tools.filter(isObject).map((t) => {
        const fn = isObject(t.function) ? t.function : {};
        return {
          name: fn.name,
          ...(fn.description !== undefined ? { description: fn.description } : {}),
          input_schema: fn.parameters ?? { type: "object" },
        };
      })
    : undefined;
  return {
    model: body.model,
    max_tokens: typeof body.max_tokens === "number" ? body.max_tokens : DEFAULT_MAX_TOKENS,
    ...(system !== "" ? { system } : {}),
    messages: turns,
    ...(typeof body.temperature === "number" ? { temperature: Math.min(1, body.temperature) } : {}),
    ...(tools && tools.length > 0 ? { tools } : {}),
  };
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** A Messages reply as a chat completion (text joined; tool_use → tool_calls; usage with the cached part). Null when it is not one. */
export function messageToCompletion(reply: unknown): Record<string, unknown> | null {
  if (!isObject(reply) || !Array.isArray(reply.content)) return null;
  const blocks = reply.content.filter(isObject);
  const content = blocks.map((b) => (b.type === "text" && typeof b.text === "string" ? b.text : "")).join("");
  const toolCalls = blocks
    .filter((b) => b.type === "tool_use")
    .map((b) => ({ id: String(b.id), type: "function", function: { name: String(b.name), arguments: JSON.stringify(b.input ?? {}) } }));
  const usage = isObject(reply.usage) ? reply.usage : {};
  const cached = num(usage.cache_read_input_tokens);
  return {
    choices: [{ message: { role: "assistant", content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) } }],
    usage: {
      prompt_tokens: num(usage.input_tokens) + cached + num(usage.cache_creation_input_tokens),
      completion_tokens: num(usage.output_tokens),
      prompt_tokens_details: { cached_tokens: cached },
    },
  };
}

/** Bytes of an Anthropic reply read at most (a training call never buffers an unbounded body). */
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

async function readJson(response: Response): Promise<unknown> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_REPLY_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  try {
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/**
 * `send` for an Anthropic upstream: a chat-completions call goes out as `POST /messages` and its
 * reply comes back as a chat completion; errors keep their status and headers (Retry-After), so the
 * client's retry rules apply unchanged. Any other path is sent as it is.
 */
export function anthropicSend(send: UpstreamFetch): UpstreamFetch {
  return async (path, init) => {
    if (path !== "/chat/completions" || typeof init.body !== "string") return send(path, init);
    const chat = JSON.parse(init.body) as Record<string, unknown>;
    const headers = new Headers(init.headers);
    if (typeof chat.seed === "number") headers.set(SEED_HEADER, String(chat.seed));
    const response = await send("/messages", { ...init, headers, body: JSON.stringify(chatToMessages(chat)) });
    if (!response.ok) return response;
    const completion = messageToCompletion(await readJson(response));
    return new Response(completion === null ? "not a Messages reply" : JSON.stringify(completion), {
      status: response.status,
      headers: { "content-type": "application/json" },
    });
  };
}
