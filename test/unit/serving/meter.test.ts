import { describe, expect, it } from "vitest";
import { bodyKind, meterBody, sseUsage, TEXT_FIELDS, tokensFromChars } from "../../../src/serving/meter";
import { sourceStream } from "../../support/streams";

const usageJson = (prompt: number, completion: number, cached?: number) =>
  JSON.stringify({
    prompt_tokens: prompt,
    completion_tokens: completion,
    ...(cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: cached } }),
  });

describe("meterBody", () => {
  it("passes a JSON body through byte for byte and reads its usage", async () => {
    const text = `{"id":"x","choices":[{"message":{"content":"é"}}],"usage":${usageJson(11, 3, 5)}}`;
    const { stream } = sourceStream([text.slice(0, 10), text.slice(10)]);
    const meter = meterBody("json", stream);
    expect(await new Response(meter.body).text()).toBe(text);
    const result = await meter.result;
    expect(result).toMatchObject({ completed: true, usage: { promptTokens: 11, completionTokens: 3, cachedTokens: 5 } });
    expect(result.firstByteAt).not.toBeNull();
  });

  it("finds the usage chunk of a stream even when chunks split lines", async () => {
    const events = [
      `data: {"choices":[{"delta":{"content":"a"}}],"usage":null}\n\n`,
      `data: {"choices":[],"usage":${usageJson(40, 1, 32)}}\n\n`,
      "data: [DONE]\n\n",
    ].join("");
    const parts = [events.slice(0, 7), events.slice(7, 70), events.slice(70, 71), events.slice(71)];
    const meter = meterBody("sse", sourceStream(parts).stream);
    expect(await new Response(meter.body).text()).toBe(events);
    expect((await meter.result).usage).toEqual({ promptTokens: 40, completionTokens: 1, cachedTokens: 32 });
  });

  it("keeps only the tail of a long stream and still finds the usage at its end", async () => {
    const filler = Array.from({ length: 3000 }, (_, i) => `data: {"choices":[{"delta":{"content":"token ${i}"}}]}\n\n`);
    const parts = [...filler, `data: {"choices":[],"usage":${usageJson(7, 3000)}}\n\n`, "data: [DONE]\n\n"];
    const meter = meterBody("sse", sourceStream(parts).stream);
    await new Response(meter.body).arrayBuffer();
    expect((await meter.result).usage).toEqual({ promptTokens: 7, completionTokens: 3000, cachedTokens: null });
  });

  it("reports no usage for bodies it does not understand", async () => {
    const meter = meterBody("other", sourceStream(["plain text"]).stream);
    expect(await new Response(meter.body).text()).toBe("plain text");
    expect(await meter.result).toMatchObject({ usage: null, completed: true });
    const bad = meterBody("json", sourceStream(['{"usage": nope']).stream);
    await new Response(bad.body).text();
    expect(await bad.result).toMatchObject({ usage: null, completed: true });
  });

  it("stop() settles as not completed, and with the client gone the source is cancelled", async () => {
    const { stream, state } = sourceStream(["data: 1\n\n", "data: 2\n\n"], { hang: true });
    const meter = meterBody("sse", stream);
    const reader = meter.body.getReader();
    await reader.read();
    // A tee's source is cancelled once both branches are: the client's, then the meter's.
    const clientGone = reader.cancel();
    meter.stop();
    await clientGone;
    const result = await meter.result;
    expect(result.completed).toBe(false);
    expect(result.firstByteAt).not.toBeNull();
    // The client's branch is cancelled through its pipe (meter.ts, clientSide): a few ticks later.
    for (let i = 0; i < 100 && !state.cancelled; i++) await new Promise((r) => setTimeout(r, 10));
    expect(state.cancelled).toBe(true);
  });

  it("records no first byte for an empty body", async () => {
    const meter = meterBody("json", sourceStream([]).stream);
    expect(await new Response(meter.body).text()).toBe("");
    expect(await meter.result).toMatchObject({ firstByteAt: null, usage: null, completed: true });
  });
});

describe("meterBody's estimate, for a stream that reports no usage or is left early", () => {
  const delta = (text: string) => `data: {"choices":[{"delta":{"content":${JSON.stringify(text)}}}]}\n\n`;
  const chunked = (text: string, size: number) =>
    Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

  it("counts the generated text of every event, fields split between chunks included, past the kept tail", async () => {
    // About 200 KB of events (well past the 64 KB tail kept for the usage), cut at odd places.
    const words = Array.from({ length: 4000 }, (_, i) => `word ${i} `);
    const text = `${words.map(delta).join("")}data: [DONE]\n\n`;
    const meter = meterBody("sse", sourceStream(chunked(text, 997)).stream, {
      textFields: TEXT_FIELDS.chat,
      estimate: { promptChars: 400 },
    });
    expect(await new Response(meter.body).text()).toBe(text);
    const result = await meter.result;
    expect(result).toMatchObject({ completed: true, estimated: true });
    expect(result.usage).toEqual({ promptTokens: 100, completionTokens: tokensFromChars(words.join("").length), cachedTokens: null });
  });

  it("is not made when the stream reports its usage", async () => {
    const text = `${delta("hello")}data: {"choices":[],"usage":${usageJson(9, 2)}}\n\ndata: [DONE]\n\n`;
    const meter = meterBody("sse", sourceStream(chunked(text, 5)).stream, { textFields: TEXT_FIELDS.chat, estimate: { promptChars: 400 } });
    await new Response(meter.body).text();
    const result = await meter.result;
    expect(result.estimated).toBeUndefined();
    expect(result.usage).toEqual({ promptTokens: 9, completionTokens: 2, cachedTokens: null });
  });

  it("counts what streamed before the client left, with the prompt's tokens from the stream's head when it has them", async () => {
    const start = `event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":30,"output_tokens":1}}}\n\n`;
    const text = (t: string) => `data: {"type":"content_block_delta","delta":{"type":"text_delta","text":${JSON.stringify(t)}}}\n\n`;
    const { stream } = sourceStream([start, text("abcdefgh"), text("ijklmnop")], { hang: true });
    const meter = meterBody("sse", stream, { textFields: TEXT_FIELDS.messages, estimate: { promptChars: 4000 } });
    const reader = meter.body.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    // The meter's branch reads the same chunks on its own schedule: let it catch up before the client leaves.
    await new Promise((r) => setTimeout(r, 20));
    await reader.cancel();
    meter.stop();
    const result = await meter.result;
    expect(result).toMatchObject({ completed: false, estimated: true });
    expect(result.usage).toEqual({ promptTokens: 30, completionTokens: tokensFromChars(16), cachedTokens: null });
  });
});

describe("sseUsage", () => {
  it("takes the last event carrying a usage object and ignores usage: null", () => {
    const text = `data: {"usage":${usageJson(1, 1)}}\r\n\r\ndata: {"usage":${usageJson(2, 2)}}\n\ndata: {"usage":null}\n\ndata: [DONE]\n\n`;
    expect(sseUsage(text)).toEqual({ promptTokens: 2, completionTokens: 2, cachedTokens: null });
  });

  it("returns null when no event has usage, and skips a cut-off first line", () => {
    expect(sseUsage('data: {"choices":[]}\n\ndata: [DONE]\n\n')).toBeNull();
    expect(sseUsage('e":1}}\ndata: {"usage":{"prompt_tokens":3}}\n')).toEqual({
      promptTokens: 3,
      completionTokens: null,
      cachedTokens: null,
    });
  });
});

describe("bodyKind", () => {
  it("tells SSE, JSON and anything else apart by content type", () => {
    expect(bodyKind("text/event-stream; charset=utf-8")).toBe("sse");
    expect(bodyKind("application/json")).toBe("json");
    expect(bodyKind("application/problem+json")).toBe("json");
    expect(bodyKind("text/plain")).toBe("other");
    expect(bodyKind(null)).toBe("other");
  });
});
