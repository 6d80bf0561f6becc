import { describe, expect, it } from "vitest";
import { questionOf, responseTextOf } from "../../../src/core/capture";
import { capturedConversation } from "../../../src/core/replay";

/** Bodies as each API documents them, trimmed to the fields that matter. */
const sse = (events: unknown[]) => `${events.map((e) => `data: ${JSON.stringify(e)}`).join("\n\n")}\n\n`;

describe("the question of a captured request", () => {
  it("is the last user message of a chat completion, text parts joined", () => {
    const request = {
      messages: [
        { role: "system", content: "s" },
        { role: "user", content: "a" },
        { role: "assistant", content: "b" },
        {
          role: "user",
          content: [
            { type: "text", text: "c" },
            { type: "image_url", image_url: { url: "data:," } },
            { type: "text", text: "d" },
          ],
        },
      ],
    };
    expect(questionOf(request)).toBe("c\nd");
    expect(questionOf(null)).toBe("");
    expect(questionOf({ messages: "nope" })).toBe("");
  });

  it("is the Responses API's input: a string, or the last user item's input_text parts", () => {
    expect(questionOf({ instructions: "i", input: "What is 2+2?" })).toBe("What is 2+2?");
    const items = {
      input: [
        { role: "developer", content: "be brief" },
        { type: "message", role: "user", content: [{ type: "input_text", text: "first" }] },
        { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "42" },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "then" },
            { type: "input_image", image_url: "data:," },
          ],
        },
      ],
    };
    expect(questionOf(items)).toBe("then");
  });

  it("is the last user message of an Anthropic request, its text blocks joined", () => {
    const request = {
      system: [{ type: "text", text: "sys" }],
      messages: [
        { role: "user", content: "old" },
        { role: "assistant", content: [{ type: "text", text: "a" }] },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t", content: "x" },
            { type: "text", text: "new" },
          ],
        },
      ],
    };
    expect(questionOf(request)).toBe("new");
  });
});

describe("the answer of a captured response", () => {
  it("reads chat completions, JSON and streamed", () => {
    expect(responseTextOf("json", JSON.stringify({ choices: [{ index: 0, message: { content: "hi" } }] }))).toBe("hi");
    const stream = sse([
      { choices: [{ index: 0, delta: { role: "assistant" } }] },
      { choices: [{ index: 0, delta: { content: "he" } }] },
      { choices: [{ index: 0, delta: { content: "llo" } }] },
    ]);
    expect(responseTextOf("sse", `${stream}data: [DONE]\n\n`)).toBe("hello");
    expect(responseTextOf("json", "not json")).toBe("");
  });

  it("reads the Responses API: message items' output_text, and the output_text delta events", () => {
    const reply = {
      object: "response",
      output: [
        { type: "reasoning", summary: [] },
        {
          type: "message",
          role: "assistant",
          content: [
            { type: "output_text", text: "The answer" },
            { type: "output_text", text: "is 4." },
          ],
        },
        { type: "function_call", name: "f", arguments: "{}" },
      ],
    };
    expect(responseTextOf("json", JSON.stringify(reply))).toBe("The answer\nis 4.");
    const stream = sse([
      { type: "response.created", response: { output: [] } },
      { type: "response.output_text.delta", item_id: "m", output_index: 0, content_index: 0, delta: "The " },
      { type: "response.output_text.delta", item_id: "m", output_index: 0, content_index: 0, delta: "answer" },
      { type: "response.output_text.done", text: "The answer" },
      { type: "response.completed", response: reply },
    ]);
    expect(responseTextOf("sse", stream)).toBe("The answer");
  });

  it("reads Anthropic messages: text blocks, and the text_delta events (not tool input)", () => {
    const reply = {
      type: "message",
      role: "assistant",
      content: [
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "Four." },
        { type: "tool_use", id: "t", name: "f", input: {} },
      ],
    };
    expect(responseTextOf("json", JSON.stringify(reply))).toBe("Four.");
    const stream = sse([
      { type: "message_start", message: { type: "message", content: [], usage: { input_tokens: 3 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Fo" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "ur." } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "{}" } },
      { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } },
      { type: "message_stop" },
    ]);
    expect(responseTextOf("sse", stream)).toBe("Four.");
  });
});

describe("the conversation a replay sends again", () => {
  it("keeps an Anthropic request's top-level system and its text turns", () => {
    const request = {
      system: [{ type: "text", text: "You are terse." }],
      messages: [
        { role: "user", content: "2+2?" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "4" },
            { type: "tool_use", id: "t", name: "f", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t", content: "ok" },
            { type: "text", text: "and 3+3?" },
          ],
        },
      ],
    };
    expect(capturedConversation(request)).toEqual([
      { role: "system", content: "You are terse." },
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "4" },
      { role: "user", content: "and 3+3?" },
    ]);
  });

  it("keeps a Responses request's instructions and its input, string or items", () => {
    expect(capturedConversation({ instructions: "Be brief.", input: "2+2?" })).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "2+2?" },
    ]);
    const items = {
      input: [
        { role: "developer", content: [{ type: "input_text", text: "dev note" }] },
        { type: "message", role: "user", content: [{ type: "input_text", text: "q1" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "a1" }] },
        { type: "function_call_output", call_id: "c", output: "x" },
        { type: "message", role: "user", content: "q2" },
      ],
    };
    expect(capturedConversation(items)).toEqual([
      { role: "system", content: "dev note" },
      { role: "user", content: "q1" },
      { role: "assistant", content: "a1" },
      { role: "user", content: "q2" },
    ]);
    expect(capturedConversation({ instructions: "only instructions" })).toBeNull();
  });
});
