/** Training calls to an Anthropic upstream: chat completions ↔ Messages API (llm/anthropic.ts). */
import { describe, expect, it } from "vitest";
import { anthropicSend, chatToMessages, DEFAULT_MAX_TOKENS, messageToCompletion } from "../../../src/llm/anthropic";
import { chatCompletion, DEFAULT_RETRY } from "../../../src/llm/client";
import { createSimulatedModel, SEED_HEADER } from "../../../src/sim";

describe("chatToMessages", () => {
  it("moves system messages to `system`, tool calls to tool_use, tool results to user turns, merging same-role turns", () => {
    const out = chatToMessages({
      model: "m",
      temperature: 1.4,
      messages: [
        { role: "system", content: "S1" },
        { role: "developer", content: "S2" },
        { role: "user", content: "Q" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "run", arguments: '{"code":"1+1"}' } }],
        },
        { role: "tool", tool_call_id: "c1", content: "2" },
        { role: "user", content: "go on" },
      ],
      tools: [
        {
          type: "function",
          function: { name: "run", description: "Runs code", parameters: { type: "object", properties: { code: { type: "string" } } } },
        },
      ],
    });
    expect(out).toEqual({
      model: "m",
      max_tokens: DEFAULT_MAX_TOKENS,
      system: "S1\n\nS2",
      temperature: 1,
      messages: [
        { role: "user", content: [{ type: "text", text: "Q" }] },
        { role: "assistant", content: [{ type: "tool_use", id: "c1", name: "run", input: { code: "1+1" } }] },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "c1", content: "2" },
            { type: "text", text: "go on" },
          ],
        },
      ],
      tools: [{ name: "run", description: "Runs code", input_schema: { type: "object", properties: { code: { type: "string" } } } }],
    });
  });
});

describe("messageToCompletion", () => {
  it("turns text and tool_use blocks into a chat completion, prompt tokens including the cached part", () => {
    const out = messageToCompletion({
      content: [
        { type: "text", text: "Let me run it." },
        { type: "tool_use", id: "t1", name: "run", input: { code: "1" } },
      ],
      usage: { input_tokens: 10, cache_read_input_tokens: 30, cache_creation_input_tokens: 5, output_tokens: 7 },
    });
    expect(out).toEqual({
      choices: [
        {
          message: {
            role: "assistant",
            content: "Let me run it.",
            tool_calls: [{ id: "t1", type: "function", function: { name: "run", arguments: '{"code":"1"}' } }],
          },
        },
      ],
      usage: { prompt_tokens: 45, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 30 } },
    });
    expect(messageToCompletion({ choices: [] })).toBeNull();
  });
});

describe("anthropicSend", () => {
  it("calls POST /messages with the seed in its header, and the client reads the reply as a chat completion", async () => {
    const sim = createSimulatedModel();
    const seen: { path: string; seed: string | null; body: Record<string, unknown> }[] = [];
    const send = anthropicSend(async (path, init) => {
      const headers = new Headers(init.headers);
      seen.push({ path, seed: headers.get(SEED_HEADER), body: JSON.parse(String(init.body)) as Record<string, unknown> });
      return sim.fetch(new Request(`http://sim.local/v1${path}?api=anthropic`, init));
    });
    const tools = [{ type: "function" as const, function: { name: "lookup", parameters: { type: "object" } } }];
    const reply = await chatCompletion(
      send,
      { model: "sim-1", seed: 9, messages: [{ role: "user", content: 'call tool lookup {"q":"x"}' }], tools },
      DEFAULT_RETRY,
    );
    expect(seen[0]).toMatchObject({ path: "/messages", seed: "9" });
    expect(seen[0]?.body.tools).toEqual([{ name: "lookup", input_schema: { type: "object" } }]);
    expect(reply.toolCalls).toEqual([
      { id: expect.stringMatching(/^toolu_/), type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } },
    ]);
    expect(reply.usage.promptTokens).toBeGreaterThan(0);
  });

  it("passes an upstream error through with its status and Retry-After", async () => {
    const send = anthropicSend(
      async () =>
        new Response('{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}', {
          status: 429,
          headers: { "retry-after": "7" },
        }),
    );
    const res = await send("/chat/completions", { method: "POST", body: JSON.stringify({ model: "m", messages: [] }) });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
  });
});
