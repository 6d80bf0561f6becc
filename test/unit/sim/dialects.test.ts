/**
 * The simulated model speaks the Responses API and Anthropic's Messages API, tool use included, as the
 * official SDKs read them (the SDKs' `fetch` is the in-process model).
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { createSimulatedModel } from "../../../src/sim";

const Q = "How many integers are there from 12 to 47, inclusive?";
const model = createSimulatedModel();
const fetchSim = (input: string | URL | Request, init?: RequestInit) => model.fetch(new Request(input, init));
const anthropic = new Anthropic({ apiKey: "sk-sim", baseURL: "http://sim.local", fetch: fetchSim, maxRetries: 0 });
const openai = new OpenAI({ apiKey: "sk-sim", baseURL: "http://sim.local/v1", fetch: fetchSim, maxRetries: 0 });
const tool = {
  name: "lookup",
  description: "Looks a thing up",
  input_schema: { type: "object" as const, properties: { q: { type: "string" } } },
};

describe("Anthropic Messages API", () => {
  it("answers like chat completions does, with Anthropic usage", async () => {
    const msg = await anthropic.messages.create({
      model: "sim-1",
      max_tokens: 400,
      system: "Be careful.",
      messages: [{ role: "user", content: Q }],
    });
    const chat = await openai.chat.completions.create({
      model: "sim-1",
      seed: 0,
      messages: [
        { role: "system", content: "Be careful." },
        { role: "user", content: Q },
      ],
    });
    expect(msg.type).toBe("message");
    expect(msg.content[0]?.type).toBe("text");
    expect(msg.content[0]?.type === "text" && msg.content[0].text).toBe(chat.choices[0]?.message.content);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.input_tokens).toBe(chat.usage?.prompt_tokens);
    expect(msg.usage.output_tokens).toBe(chat.usage?.completion_tokens);
  });

  it("streams every event type and the same text", async () => {
    const stream = anthropic.messages.stream({ model: "sim-1", max_tokens: 400, messages: [{ role: "user", content: Q }] });
    const types = new Set<string>();
    stream.on("streamEvent", (e) => types.add(e.type));
    const final = await stream.finalMessage();
    const plain = await anthropic.messages.create({ model: "sim-1", max_tokens: 400, messages: [{ role: "user", content: Q }] });
    expect([...types].sort()).toEqual([
      "content_block_delta",
      "content_block_start",
      "content_block_stop",
      "message_delta",
      "message_start",
      "message_stop",
    ]);
    expect(final.content).toEqual(plain.content);
    expect(final.usage.output_tokens).toBe(plain.usage.output_tokens);
  });

  it("uses tools: tool_use, then reads the tool_result", async () => {
    const ask = { role: "user" as const, content: 'call tool lookup {"q":"x"}' };
    const first = await anthropic.messages.create({ model: "sim-1", max_tokens: 400, tools: [tool], messages: [ask] });
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content[0];
    if (use?.type !== "tool_use") throw new Error("expected tool_use");
    expect(use.name).toBe("lookup");
    expect(use.input).toEqual({ q: "x" });
    const streamed = await anthropic.messages.stream({ model: "sim-1", max_tokens: 400, tools: [tool], messages: [ask] }).finalMessage();
    expect(streamed.content).toEqual(first.content);
    const second = await anthropic.messages.create({
      model: "sim-1",
      max_tokens: 400,
      tools: [tool],
      messages: [
        ask,
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "42" }] },
      ],
    });
    expect(second.content[0]?.type).toBe("text");
  });

  it("errors in Anthropic's shape, typed by the SDK", async () => {
    const error = await anthropic.messages
      .create({ model: "sim-1", messages: [{ role: "user", content: Q }] } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe("OpenAI Responses API", () => {
  it("answers with output_text and usage, the instructions read as a system message", async () => {
    const res = await openai.responses.create({ model: "sim-1", instructions: "Be careful.", input: Q });
    const chat = await openai.chat.completions.create({
      model: "sim-1",
      seed: 0,
      messages: [
        { role: "system", content: "Be careful." },
        { role: "user", content: Q },
      ],
    });
    expect(res.output_text).toBe(chat.choices[0]?.message.content);
    expect(res.usage?.input_tokens).toBe(chat.usage?.prompt_tokens);
    expect(res.status).toBe("completed");
  });

  it("streams the same text and ends with response.completed", async () => {
    const stream = await openai.responses.create({ model: "sim-1", input: [{ role: "user", content: Q }], stream: true });
    let text = "";
    let completed = false;
    for await (const e of stream) {
      if (e.type === "response.output_text.delta") text += e.delta;
      if (e.type === "response.completed") completed = true;
    }
    const plain = await openai.responses.create({ model: "sim-1", input: Q });
    expect(completed).toBe(true);
    expect(text).toBe(plain.output_text);
  });

  it("uses tools: function_call, then reads function_call_output", async () => {
    const tools = [{ type: "function" as const, name: "lookup", parameters: tool.input_schema, strict: false }];
    const first = await openai.responses.create({ model: "sim-1", tools, input: 'call tool lookup {"q":"x"}' });
    const call = first.output[0];
    if (call?.type !== "function_call") throw new Error("expected a function_call");
    expect(call.name).toBe("lookup");
    expect(JSON.parse(call.arguments)).toEqual({ q: "x" });
    const second = await openai.responses.create({
      model: "sim-1",
      tools,
      input: [
        { role: "user", content: 'call tool lookup {"q":"x"}' },
        call,
        { type: "function_call_output", call_id: call.call_id, output: "42" },
      ],
    });
    expect(second.output[0]?.type).toBe("message");
  });
});
