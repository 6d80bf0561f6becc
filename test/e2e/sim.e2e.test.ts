import OpenAI, { RateLimitError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimServer, type SimServer } from "../../scripts/simServer";

let server: SimServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startSimServer({ port: 0 });
  client = new OpenAI({ baseURL: server.url, apiKey: "sim-key", maxRetries: 0, timeout: 10_000 });
});
afterAll(async () => {
  await server.close();
});

const Q = "How many integers are there from 12 to 47, inclusive?";

describe("simulated model over HTTP with the official openai client", () => {
  it("answers a non-streamed completion and records the request", async () => {
    const res = await client.chat.completions.create({
      model: "sim-1",
      messages: [{ role: "user", content: Q }],
      temperature: 0.7,
      seed: 5,
    });
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe("sim-1");
    expect(res.choices[0]?.message.content).toMatch(/\\boxed\{3[56]\}/);
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
    const recorded = server.requests.find((r) => r.path === "/v1/chat/completions");
    expect(recorded?.body).toMatchObject({ model: "sim-1", seed: 5, messages: [{ role: "user", content: Q }] });
  });

  it("streams, with a usage chunk when asked", async () => {
    const stream = await client.chat.completions.create({
      model: "sim-1",
      messages: [{ role: "user", content: Q }],
      seed: 5,
      temperature: 0.7,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: number | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect(finish).toBe("stop");
    expect(usage).toBeGreaterThan(0);
    const plain = await client.chat.completions.create({
      model: "sim-1",
      messages: [{ role: "user", content: Q }],
      seed: 5,
      temperature: 0.7,
    });
    expect(text).toBe(plain.choices[0]?.message.content);
  });

  it("lists models", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => [m.id, m.owned_by])).toEqual([["sim-1", "tfgrpo-simulated"]]);
  });

  it("surfaces an injected 429 as RateLimitError when retries are off", async () => {
    const err = await client.chat.completions
      .create({ model: "sim-1", messages: [{ role: "user", content: Q }] }, { headers: { "x-sim-fault-rate": "1", "x-sim-faults": "429" } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).headers?.get("retry-after")).toBe("1");
  });

  it("a retrying client gets through injected faults", async () => {
    const retrying = new OpenAI({ baseURL: server.url, apiKey: "sim-key", maxRetries: 4, timeout: 10_000 });
    const res = await retrying.chat.completions.create(
      { model: "sim-1", messages: [{ role: "user", content: Q }], seed: 77 },
      { headers: { "x-sim-fault-rate": "1", "x-sim-faults": "429,500" } },
    );
    expect(res.choices[0]?.message.content).toMatch(/\\boxed/);
  });
});
