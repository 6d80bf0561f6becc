import { describe, expect, it } from "vitest";
import { chatRequest, completion, newModel, sseData } from "./helpers";

const Q = "How many integers are there from 12 to 47, inclusive?";
const user = (content: unknown) => [{ role: "user", content }];

describe("wire format", () => {
  it("same request and seed give the same reply byte for byte; other seeds and choices differ", async () => {
    const a = newModel();
    const b = newModel();
    const body = { model: "sim-1", messages: user(Q), temperature: 0.7, seed: 42, n: 8 };
    const ra = await (await a.fetch(chatRequest(body))).text();
    const rb = await (await b.fetch(chatRequest(body))).text();
    expect(ra).toBe(rb);
    const json = JSON.parse(ra) as { choices: { message: { content: string } }[] };
    expect(new Set(json.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
    const other = await (await a.fetch(chatRequest({ ...body, seed: 43 }))).text();
    expect(other).not.toBe(ra);
  });

  it("accepts content-part arrays and reports usage and labels", async () => {
    const c = await completion(newModel(), { messages: user([{ type: "text", text: Q }]), seed: 1 });
    expect(c.model).toBe("sim-1");
    expect(c.choices[0]?.message.content).toMatch(/range count/);
    expect(c.usage.prompt_tokens).toBe(Math.ceil(Q.length / 4));
    expect(c.usage.total_tokens).toBe(c.usage.prompt_tokens + c.usage.completion_tokens);
  });

  it("truncates at max_tokens with finish_reason length", async () => {
    for (const key of ["max_tokens", "max_completion_tokens"]) {
      const c = await completion(newModel(), { messages: user(Q), seed: 1, [key]: 5 });
      expect(c.choices[0]?.finish_reason).toBe("length");
      expect(c.choices[0]?.message.content).toHaveLength(20);
    }
  });

  it("rejects bad requests with the OpenAI error shape", async () => {
    const m = newModel();
    const bad = async (body: string | object) => {
      const res = await m.fetch(
        new Request("http://x/v1/chat/completions", { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) }),
      );
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: { type: string; param: string | null; code: string | null; message: string } }).error;
    };
    expect((await bad("{nope")).code).toBe("invalid_json");
    expect(await bad({ messages: user(Q) })).toMatchObject({
      type: "invalid_request_error",
      param: "model",
      code: "missing_required_parameter",
    });
    expect(await bad({ model: "sim-1", messages: user(Q), temperature: 3 })).toMatchObject({ param: "temperature" });
    expect(await bad({ model: "sim-1", messages: [{ role: "wizard", content: "x" }] })).toMatchObject({ param: "messages.0.role" });
  });

  it("lists its models as simulated", async () => {
    const res = await newModel().fetch(new Request("http://x/v1/models"));
    expect(await res.json()).toEqual({
      object: "list",
      data: [{ id: "sim-1", object: "model", created: expect.any(Number), owned_by: "tfgrpo-simulated" }],
    });
  });

  it("streams SSE: role first, several content deltas, finish chunk, usage chunk, [DONE]", async () => {
    const m = newModel();
    const body = { model: "sim-1", messages: user(Q), seed: 3, stream: true, stream_options: { include_usage: true } };
    const res = await m.fetch(chatRequest(body));
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const data = await sseData(res);
    expect(data[data.length - 1]).toBe("[DONE]");
    const chunks = data.slice(0, -1).map(
      (d) =>
        JSON.parse(d) as {
          object: string;
          choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
          usage?: { total_tokens: number };
        },
    );
    for (const c of chunks) expect(c.object).toBe("chat.completion.chunk");
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const contents = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).filter((s) => s !== "");
    expect(contents.length).toBeGreaterThan(3);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finish).toHaveLength(1);
    expect(finish[0]?.choices[0]?.finish_reason).toBe("stop");
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.total_tokens).toBeGreaterThan(0);
    // The streamed text equals the non-streamed reply.
    const plain = await completion(m, { ...body, stream: false });
    expect(contents.join("")).toBe(plain.choices[0]?.message.content);
  });

  const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
  it("returns a tool call when asked to `call tool <name>`", async () => {
    const c = await completion(newModel(), { messages: user('Please call tool get_weather {"city":"Paris"}'), tools });
    expect(c.choices[0]?.finish_reason).toBe("tool_calls");
    expect(c.choices[0]?.message.tool_calls?.[0]?.function).toEqual({ name: "get_weather", arguments: '{"city":"Paris"}' });
    const plain = await completion(newModel(), { messages: user("What's up?"), tools });
    expect(plain.choices[0]?.finish_reason).toBe("stop");
  });

  it("streams the text alongside a tool call before the call's deltas, as OpenAI does", async () => {
    const code = [
      { type: "function", function: { name: "execute_code", parameters: { type: "object", properties: { code: { type: "string" } } } } },
    ];
    const request = (seed: number) => ({
      model: "sim-1",
      seed,
      temperature: 0.3,
      messages: user("Compute 7^45 exactly, giving every digit."),
      tools: code,
    });
    // The first seed whose reply calls the tool (the model sometimes estimates instead).
    let seed = 1;
    while (!(await completion(newModel(), request(seed))).choices[0]?.message.tool_calls) seed++;
    const body = request(seed);
    const message = (await completion(newModel(), body)).choices[0]?.message;
    expect(message?.content).toMatch(/Step 1/);
    const data = (await sseData(await newModel().fetch(chatRequest({ ...body, stream: true })))).slice(0, -1).map(
      (d) =>
        JSON.parse(d) as {
          choices: {
            delta: { content?: string | null; tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[] };
          }[];
        },
    );
    const deltas = data.flatMap((c) => c.choices.map((ch) => ch.delta));
    const text = deltas.map((d) => d.content ?? "").join("");
    const firstCall = deltas.findIndex((d) => d.tool_calls);
    const lastText = deltas.map((d) => typeof d.content === "string" && d.content !== "").lastIndexOf(true);
    expect(text).toBe(message?.content);
    expect(lastText).toBeLessThan(firstCall);
    const calls = deltas.flatMap((d) => d.tool_calls ?? []);
    expect(calls[0]?.id).toBe(message?.tool_calls?.[0]?.id);
    expect(calls.map((t) => t.function?.arguments ?? "").join("")).toBe(message?.tool_calls?.[0]?.function.arguments);
  });

  it("streams a tool call", async () => {
    const res = await newModel().fetch(
      chatRequest({ model: "sim-1", stream: true, messages: user('call tool get_weather {"city":"Paris"}'), tools }),
    );
    const data = (await sseData(res)).slice(0, -1).map(
      (d) =>
        JSON.parse(d) as {
          choices: { delta: { tool_calls?: { function?: { name?: string; arguments?: string } }[] }; finish_reason: string | null }[];
        },
    );
    const args = data
      .flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []))
      .map((t) => t.function?.arguments ?? "")
      .join("");
    expect(args).toBe('{"city":"Paris"}');
    expect(data.some((c) => c.choices[0]?.finish_reason === "tool_calls")).toBe(true);
  });
});
