/** What each proxy surface rewrites (serving/surfaces.ts) and the per-key token accounting (keyUsage.ts). */
import { describe, expect, it } from "vitest";
import { applyCeiling, SURFACES, surfacesOf } from "../../../src/serving/surfaces";
import { secondsToNextDay, tokensFlushed, tokensRecorded, tokensUsed } from "../../../src/serving/keyUsage";
import { readUsage, streamUsage } from "../../../src/serving/meter";

describe("applyCeiling", () => {
  it("sets the first field when none is given, lowers any given above, keeps those below", () => {
    expect(applyCeiling({}, ["max_tokens", "max_completion_tokens"], 100)).toEqual({ max_tokens: 100 });
    expect(applyCeiling({ max_completion_tokens: 500 }, ["max_tokens", "max_completion_tokens"], 100)).toEqual({
      max_completion_tokens: 100,
    });
    expect(applyCeiling({ max_tokens: 50 }, ["max_tokens"], 100)).toEqual({ max_tokens: 50 });
    expect(applyCeiling({ max_tokens: 5000 }, ["max_tokens"], null)).toEqual({ max_tokens: 5000 });
  });
});

describe("surfaces", () => {
  it("names the paths each upstream format serves", () => {
    expect(surfacesOf("openai")).toEqual(["/v1/chat/completions", "/v1/responses"]);
    expect(surfacesOf("anthropic")).toEqual(["/v1/messages"]);
  });

  it("inject only where each API keeps instructions; everything else untouched", () => {
    const input = [{ role: "user", content: [{ type: "input_text", text: "hi" }] }];
    const body = { input, tools: [{ type: "web_search" }], store: false, x_unknown: 1 };
    const out = SURFACES.responses.inject(body, "LIB", "after");
    expect(out).toEqual({ ...body, instructions: "LIB" });
    expect(out.input).toBe(input);
    const msg = { messages: [{ role: "user", content: "hi" }], system: "S", max_tokens: 5 };
    expect(SURFACES.messages.inject(msg, "LIB", "after")).toEqual({ ...msg, system: "S\n\nLIB" });
  });
});

describe("usage in every wire format", () => {
  it("reads chat, Responses and Messages usage, prompt tokens including the cached part", () => {
    expect(readUsage({ usage: { prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 4 } } })).toEqual({
      promptTokens: 10,
      completionTokens: 2,
      cachedTokens: 4,
    });
    expect(
      readUsage({
        type: "response.completed",
        response: { usage: { input_tokens: 10, output_tokens: 3, input_tokens_details: { cached_tokens: 6 } } },
      }),
    ).toEqual({ promptTokens: 10, completionTokens: 3, cachedTokens: 6 });
    expect(
      readUsage({ usage: { input_tokens: 10, cache_read_input_tokens: 20, cache_creation_input_tokens: 0, output_tokens: 4 } }),
    ).toEqual({ promptTokens: 30, completionTokens: 4, cachedTokens: 20 });
  });

  it("combines Anthropic's message_start (prompt) and message_delta (output)", () => {
    const head = `event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":12,"cache_read_input_tokens":0,"output_tokens":1}}}\n\n`;
    const tail = `event: message_delta\ndata: {"type":"message_delta","delta":{},"usage":{"output_tokens":40}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`;
    expect(streamUsage(head, tail)).toEqual({ promptTokens: 12, completionTokens: 40, cachedTokens: 0 });
  });
});

describe("tokens per key and day", () => {
  it("adds this isolate's unflushed tokens to the D1 sum, without counting flushed ones twice", () => {
    const day = "2026-11-30";
    const at = `${day}T10:00:00.000Z`;
    tokensRecorded("k1", at, 100);
    tokensRecorded("k1", at, 50);
    tokensFlushed("k1", at, 100);
    // The D1 sum (from all isolates) holds the 100 flushed here plus 30 from elsewhere.
    expect(tokensUsed("k1", day, { sumDay: day, sum: 130, flushedAtCheck: 100 })).toBe(180);
    // A sum read for another day counts only this isolate's tokens of today.
    expect(tokensUsed("k1", day, { sumDay: "2026-11-29", sum: 999, flushedAtCheck: 0 })).toBe(150);
    expect(tokensUsed("k1", "2026-12-01", { sumDay: day, sum: 130, flushedAtCheck: 100 })).toBe(0);
  });

  it("resets at the next UTC midnight", () => {
    expect(secondsToNextDay(Date.parse("2026-11-30T23:59:00.000Z"))).toBe(60);
  });
});
