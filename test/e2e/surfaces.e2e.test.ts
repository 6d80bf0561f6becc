/**
 * The Responses and Messages surfaces end to end: a real `wrangler dev`, the simulated model's server
 * as upstream (recording what it receives), the official `openai` and `@anthropic-ai/sdk` clients;
 * cancellation against a loopback upstream that streams slowly; per-key limits and expiry.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimServer, type SimServer } from "../../scripts/simServer";
import { renderLibrary } from "../../src/core/library";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "../../scripts/lib/wranglerDev";

const ADMIN_TOKEN = "e2e-admin-token";
const UPSTREAM_KEY = "sk-e2e-upstream-secret";
const ITEMS = [
  { id: "E1", name: "Inclusive counting", text: "When counting integers in a closed range, include both endpoints: last - first + 1." },
  { id: "E2", name: "Percent base", text: "A percentage change applies to the original value, not the new one." },
];
const RENDERED = renderLibrary(ITEMS.map((it) => ({ ...it, provenance: [] })));
const Q = "How many integers are there from 12 to 47, inclusive?";

let dev: WranglerDev;
let sim: SimServer;
let faulty: SimServer;
let slow: SlowUpstream;
const keys: Record<string, string> = {};

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const send = () =>
    fetch(`${dev.url}/api${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  // A pooled keep-alive socket may have idled out during the slow `wrangler d1 execute`: one retry.
  const res = await send().catch(send);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * An upstream that streams one event every 300 ms for 6 s in the format of the path asked for, and
 * records when each request's connection closed (and whether it had finished).
 */
type SlowUpstream = { url: string; closes: { path: string; at: number; finished: boolean }[]; server: Server };

function eventFor(path: string, i: number): string {
  if (path.endsWith("/messages")) {
    if (i === 0)
      return `event: message_start\ndata: ${JSON.stringify({ type: "message_start", message: { id: "msg_slow", type: "message", role: "assistant", model: "sim-1", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 50, output_tokens: 1 } } })}\n\n`;
    return `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "word word " } })}\n\n`;
  }
  if (path.endsWith("/responses"))
    return `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", sequence_number: i, item_id: "msg_1", output_index: 0, content_index: 0, delta: "word word " })}\n\n`;
  return `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "sim-1", choices: [{ index: 0, delta: { content: "word word " }, finish_reason: null }] })}\n\n`;
}

async function startSlowUpstream(): Promise<SlowUpstream> {
  const closes: SlowUpstream["closes"] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "";
    req.resume();
    let i = 0;
    let finished = false;
    res.writeHead(200, { "content-type": "text/event-stream" });
    const timer = setInterval(() => {
      if (i >= 20) {
        clearInterval(timer);
        finished = true;
        res.end();
        return;
      }
      res.write(eventFor(path, i++));
    }, 300);
    res.write(eventFor(path, i++));
    res.on("close", () => {
      clearInterval(timer);
      closes.push({ path, at: Date.now(), finished });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, closes, server };
}

beforeAll(async () => {
  sim = await startSimServer();
  faulty = await startSimServer({ faultRate: 1, faults: ["429"], retryAfterSeconds: 3 });
  slow = await startSlowUpstream();
  dev = await startWranglerDev({ vars: { ADMIN_TOKEN, ENCRYPTION_KEY: randomEncryptionKey() }, inspector: true });

  const oa = await admin<{ id: string }>("POST", "/agents", {
    name: "oa",
    upstream: { baseUrl: sim.url, model: "sim-1", apiKey: UPSTREAM_KEY },
  });
  const an = await admin<{ id: string }>("POST", "/agents", {
    name: "an",
    maxTokens: 300,
    upstream: { baseUrl: sim.url, model: "sim-1", apiKey: UPSTREAM_KEY, format: "anthropic" },
  });
  await admin("POST", "/agents", { name: "slow-oa", upstream: { baseUrl: slow.url, model: "sim-1" } });
  await admin("POST", "/agents", { name: "faulty-an", upstream: { baseUrl: faulty.url, model: "sim-1", format: "anthropic" } });
  await admin("POST", "/agents", { name: "faulty-oa", upstream: { baseUrl: faulty.url, model: "sim-1" } });
  await admin("POST", "/agents", { name: "slow-an", upstream: { baseUrl: slow.url, model: "sim-1", format: "anthropic" } });
  dev.d1Execute(
    [oa.id, an.id]
      .flatMap((agentId) => [
        `INSERT INTO library_versions (agent_id, version, origin_key, item_count, note) VALUES (${sqlText(agentId)}, 1, 'e2e/1', ${ITEMS.length}, 'e2e')`,
        ...ITEMS.map(
          (it, i) =>
            `INSERT INTO library_items (agent_id, version, position, item_id, name, text, provenance) VALUES (${sqlText(agentId)}, 1, ${i}, ${sqlText(it.id)}, ${sqlText(it.name)}, ${sqlText(it.text)}, '[]')`,
        ),
        `UPDATE agents SET active_version = 1 WHERE id = ${sqlText(agentId)}`,
      ])
      .join("; "),
  );
  for (const agent of ["oa", "an", "slow-oa", "slow-an", "faulty-an", "faulty-oa"])
    keys[agent] = (await admin<{ key: string }>("POST", `/agents/${agent}/keys`, {})).key;
  keys.rated = (await admin<{ key: string }>("POST", "/agents/an/keys", { requestsPerMinute: 10 })).key;
  keys.ratedOa = (await admin<{ key: string }>("POST", "/agents/oa/keys", { requestsPerMinute: 10 })).key;
  keys.tokens = (await admin<{ key: string }>("POST", "/agents/oa/keys", { tokensPerDay: 200 })).key;
  keys.tokensAn = (await admin<{ key: string }>("POST", "/agents/an/keys", { tokensPerDay: 200 })).key;
  keys.expired = (await admin<{ key: string }>("POST", "/agents/an/keys", { expiresAt: new Date(Date.now() + 1500).toISOString() })).key;
}, 180_000);

afterAll(async () => {
  await dev?.stop();
  await sim?.close();
  await faulty?.close();
  await new Promise((r) => slow?.server.close(r));
});

const openai = (key = keys.oa) => new OpenAI({ baseURL: `${dev.url}/v1`, apiKey: key, maxRetries: 0 });
const anthropic = (key = keys.an, bearer = false) =>
  new Anthropic({ baseURL: dev.url, ...(bearer ? { authToken: key, apiKey: null } : { apiKey: key }), maxRetries: 0 });

type Recorded = { path: string; headers: Record<string, string>; body: Record<string, unknown> };
const lastUpstream = (suffix: string): Recorded => {
  const r = sim.requests.filter((q) => q.path.endsWith(suffix)).at(-1);
  if (!r) throw new Error(`the upstream received no ${suffix}`);
  return r as Recorded;
};

describe("POST /v1/responses with the openai client", () => {
  it("merges the library into instructions; input, tools and unknown fields arrive untouched", async () => {
    const input = [{ role: "user" as const, content: [{ type: "input_text" as const, text: Q }] }];
    const tools = [{ type: "function" as const, name: "lookup", parameters: { type: "object", properties: {} }, strict: false }];
    const { data, response } = await openai()
      .responses.create({ model: "sim-1", instructions: "Be exact.", input, tools, store: false, metadata: { a: "1" } })
      .withResponse();
    expect(response.headers.get("x-experience-version")).toBe("1");
    const text = data.output
      .flatMap((o) => (o.type === "message" ? o.content.map((c) => (c.type === "output_text" ? c.text : "")) : []))
      .join("");
    expect(text).toMatch(/\\boxed\{/);
    const sent = lastUpstream("/responses");
    expect(sent.body.instructions).toBe(`Be exact.\n\n${RENDERED}`);
    expect(sent.body.input).toEqual(input);
    expect(sent.body.tools).toEqual(tools);
    expect(sent.body.store).toBe(false);
    expect(sent.body.metadata).toEqual({ a: "1" });
    expect(sent.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(sent)).not.toContain(keys.oa);
  });

  it("sets instructions to the library alone when absent, byte-identical across requests and with streaming", async () => {
    await openai().responses.create({ model: "sim-1", input: Q, previous_response_id: "resp_prev" });
    const first = lastUpstream("/responses");
    expect(first.body.instructions).toBe(RENDERED);
    expect(first.body.previous_response_id).toBe("resp_prev");
    expect(first.body.input).toBe(Q);
    const stream = await openai().responses.create({ model: "sim-1", input: Q, stream: true });
    let text = "";
    const types = new Set<string>();
    for await (const e of stream) {
      types.add(e.type);
      if (e.type === "response.output_text.delta") text += e.delta;
    }
    expect(types).toContain("response.completed");
    expect(text).toMatch(/\\boxed\{/);
    const second = lastUpstream("/responses");
    expect(second.body.instructions).toBe(first.body.instructions);
    expect(second.body.stream).toBe(true);
  });

  it("surfaces upstream and proxy errors as the SDK's typed errors", async () => {
    await expect(openai().responses.create({ model: "gpt-x", input: Q })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(openai(`tfg_${"x".repeat(40)}`).responses.create({ model: "sim-1", input: Q })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    // The sim itself refuses a request without input: its 400 passes through.
    await expect(openai().responses.create({ model: "sim-1" } as never)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe("POST /v1/messages with @anthropic-ai/sdk", () => {
  it("merges the library into the system string; everything else and the Anthropic headers arrive untouched", async () => {
    const msg = await anthropic().messages.create(
      {
        model: "sim-1",
        max_tokens: 200,
        system: "Be exact.",
        messages: [{ role: "user", content: Q }],
        stop_sequences: ["\n\nHuman:"],
        metadata: { user_id: "u1" },
      },
      { headers: { "anthropic-beta": "prompt-caching-2024-07-31", "anthropic-version": "2024-01-01" } },
    );
    expect(msg.content[0]?.type === "text" && msg.content[0].text).toMatch(/\\boxed\{/);
    const sent = lastUpstream("/messages");
    expect(sent.body.system).toBe(`Be exact.\n\n${RENDERED}`);
    expect(sent.body.messages).toEqual([{ role: "user", content: Q }]);
    expect(sent.body.stop_sequences).toEqual(["\n\nHuman:"]);
    expect(sent.body.metadata).toEqual({ user_id: "u1" });
    expect(sent.body.max_tokens).toBe(200);
    expect(sent.headers["x-api-key"]).toBe(UPSTREAM_KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers["anthropic-version"]).toBe("2024-01-01");
    expect(sent.headers["anthropic-beta"]).toBe("prompt-caching-2024-07-31");
  });

  it("merges into the last text block of a block list, keeping its cache_control, never adding a block", async () => {
    const system = [
      { type: "text" as const, text: "Be exact." },
      { type: "text" as const, text: "Show your work.", cache_control: { type: "ephemeral" as const } },
    ];
    await anthropic(keys.an, true).messages.create({ model: "sim-1", max_tokens: 200, system, messages: [{ role: "user", content: Q }] });
    const a = lastUpstream("/messages");
    expect(a.body.system).toEqual([system[0], { ...system[1], text: `Show your work.\n\n${RENDERED}` }]);
    const final = await anthropic()
      .messages.stream({ model: "sim-1", max_tokens: 200, system, messages: [{ role: "user", content: Q }] })
      .finalMessage();
    expect(final.content[0]?.type === "text" && final.content[0].text).toMatch(/\\boxed\{/);
    expect(JSON.stringify(lastUpstream("/messages").body.system)).toBe(JSON.stringify(a.body.system));
  });

  it("applies the agent's max_tokens ceiling and forwards tool use both ways", async () => {
    const tools = [{ name: "lookup", input_schema: { type: "object" as const, properties: { q: { type: "string" } } } }];
    const first = await anthropic().messages.create({
      model: "sim-1",
      max_tokens: 4000,
      tools,
      messages: [{ role: "user", content: 'call tool lookup {"q":"x"}' }],
    });
    expect(lastUpstream("/messages").body.max_tokens).toBe(300);
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((b) => b.type === "tool_use");
    expect(use?.type === "tool_use" && use.input).toEqual({ q: "x" });
    expect(lastUpstream("/messages").body.tools).toEqual(tools);
  });

  it("answers errors in Anthropic's shape, as the SDK's typed errors", async () => {
    const bad = await anthropic(`tfg_${"x".repeat(40)}`)
      .messages.create({ model: "sim-1", max_tokens: 10, messages: [{ role: "user", content: Q }] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((bad as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: "error",
      error: { type: "authentication_error" },
    });
    await expect(
      anthropic().messages.create({ model: "other", max_tokens: 10, messages: [{ role: "user", content: Q }] }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    const invalid = await anthropic()
      .messages.create({ model: "sim-1", max_tokens: 10, messages: "hi" } as never)
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError);
    expect((invalid as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("messages") },
    });
  });

  it("passes the upstream's own errors through as the SDKs' typed errors, Retry-After included", async () => {
    const an = await anthropic(keys["faulty-an"])
      .messages.create({ model: "sim-1", max_tokens: 10, messages: [{ role: "user", content: Q }] })
      .catch((e: unknown) => e);
    expect(an).toBeInstanceOf(Anthropic.RateLimitError);
    expect((an as InstanceType<typeof Anthropic.RateLimitError>).headers?.get("retry-after")).toBe("3");
    expect((an as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    const oa = await openai(keys["faulty-oa"])
      .responses.create({ model: "sim-1", input: Q })
      .catch((e: unknown) => e);
    expect(oa).toBeInstanceOf(OpenAI.RateLimitError);
    expect((oa as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after")).toBe("3");
  });

  it("refuses a surface the agent's upstream does not speak, naming the ones it does", async () => {
    const onOpenAi = await fetch(`${dev.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": keys.oa ?? "", "content-type": "application/json" },
      body: "{}",
    });
    expect(onOpenAi.status).toBe(400);
    expect(await onOpenAi.json()).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("/v1/chat/completions or /v1/responses") },
    });
    const onAnthropic = await openai(keys.an)
      .chat.completions.create({ model: "sim-1", messages: [{ role: "user", content: Q }] })
      .catch((e: unknown) => e);
    expect(onAnthropic).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String((onAnthropic as Error).message)).toContain("/v1/messages");
  });
});

describe("limits", () => {
  it("a key over its request rate gets 429 with Retry-After, in each SDK", async () => {
    const an = anthropic(keys.rated);
    const outcomes: unknown[] = [];
    for (let i = 0; i < 12; i++)
      outcomes.push(
        await an.messages.create({ model: "sim-1", max_tokens: 50, messages: [{ role: "user", content: Q }] }).catch((e: unknown) => e),
      );
    const limited = outcomes.filter((o) => o instanceof Anthropic.RateLimitError) as InstanceType<typeof Anthropic.RateLimitError>[];
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]?.headers?.get("retry-after")).toBe("60");
    const oa = openai(keys.ratedOa);
    const results: unknown[] = [];
    for (let i = 0; i < 12; i++) results.push(await oa.responses.create({ model: "sim-1", input: Q }).catch((e: unknown) => e));
    const limitedOa = results.filter((o) => o instanceof OpenAI.RateLimitError) as InstanceType<typeof OpenAI.RateLimitError>[];
    expect(limitedOa.length).toBeGreaterThan(0);
    expect(limitedOa[0]?.headers?.get("retry-after")).toBe("60");
  });

  it("a key over its daily tokens gets 429 with Retry-After until midnight UTC", async () => {
    // The first requests use ~200 tokens; the limit is seen by the next request in this isolate.
    const oa = openai(keys.tokens);
    let error: unknown = null;
    for (let i = 0; i < 6 && error === null; i++)
      await oa.responses.create({ model: "sim-1", input: Q }).catch((e: unknown) => (error = e));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const retryAfter = Number((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const an = anthropic(keys.tokensAn);
    let anError: unknown = null;
    for (let i = 0; i < 6 && anError === null; i++)
      await an.messages
        .create({ model: "sim-1", max_tokens: 100, messages: [{ role: "user", content: Q }] })
        .catch((e: unknown) => (anError = e));
    expect(anError).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it("an expired key gets 401", async () => {
    await new Promise((r) => setTimeout(r, 1600));
    await expect(
      anthropic(keys.expired).messages.create({ model: "sim-1", max_tokens: 10, messages: [{ role: "user", content: Q }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });
});

type UsageRow = {
  status: number;
  stream: boolean;
  surface: string;
  promptTokens: number | null;
  completionTokens: number | null;
  usageEstimated: boolean;
  createdAt: string;
};

/**
 * Known flake, not yet explained (docs/serving.md, "Cancellation"): in about one run in eight, one case's
 * upstream is not released after the abort. Each case may run up to 3 times, and every extra attempt is
 * printed, so a green run cannot hide how often it happened; a real regression fails all attempts.
 */
const cancellationAttempts = new Map<string, number>();

describe("cancellation", { retry: 2 }, () => {
  const cases = [
    {
      surface: "chat",
      agent: "slow-oa",
      path: "/v1/chat/completions",
      body: { model: "sim-1", stream: true, messages: [{ role: "user", content: Q }] },
    },
    { surface: "responses", agent: "slow-oa", path: "/v1/responses", body: { model: "sim-1", stream: true, input: Q } },
    {
      surface: "messages",
      agent: "slow-an",
      path: "/v1/messages",
      body: { model: "sim-1", stream: true, max_tokens: 100, messages: [{ role: "user", content: Q }] },
    },
  ];
  for (const c of cases) {
    it(`${c.surface}: the upstream connection closes within 1 s of the client's abort; usage logged as 499`, async () => {
      const attempt = (cancellationAttempts.get(c.surface) ?? 0) + 1;
      cancellationAttempts.set(c.surface, attempt);
      if (attempt > 1) {
        console.warn(`RETRY: cancellation ${c.surface}, attempt ${attempt} (the previous attempt failed)`);
        // Let the previous attempt's upstream stream (6 s) end, so its close is not taken for this one's.
        await new Promise((r) => setTimeout(r, 3000));
      }
      const before = slow.closes.length;
      const controller = new AbortController();
      const res = await fetch(`${dev.url}${c.path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${keys[c.agent] ?? ""}`, "content-type": "application/json" },
        body: JSON.stringify(c.body),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read();
      await reader.read();
      const abortedAt = Date.now();
      controller.abort();
      const deadline = abortedAt + 5000;
      while (slow.closes.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const closed = slow.closes[before];
      expect(closed, "the upstream connection never closed").toBeDefined();
      expect(closed?.finished).toBe(false);
      const delay = (closed?.at ?? 0) - abortedAt;
      console.log(`${c.surface}: upstream closed ${delay} ms after the abort`);
      expect(delay).toBeLessThan(1000);

      let row: UsageRow | undefined;
      for (let i = 0; i < 50 && !row; i++) {
        row = (await admin<{ data: UsageRow[] }>("GET", `/agents/${c.agent}/usage?limit=5`)).data.find(
          (r) => r.surface === c.surface && Date.parse(r.createdAt) >= abortedAt - 10_000,
        );
        if (!row) await new Promise((r) => setTimeout(r, 100));
      }
      expect(row?.status).toBe(499);
      expect(row?.usageEstimated).toBe(true);
      expect(row?.completionTokens).toBeGreaterThan(0);
      if (c.surface === "messages") expect(row?.promptTokens).toBe(50);
    }, 30_000);
  }
});

describe("streamed usage", () => {
  it("is recorded for a chat stream without include_usage, as an estimate flagged as such; exact otherwise", async () => {
    const stream = await openai().chat.completions.create({ model: "sim-1", stream: true, messages: [{ role: "user", content: Q }] });
    let chunks = 0;
    for await (const _ of stream) chunks++;
    expect(chunks).toBeGreaterThan(2);
    const exact = await openai().chat.completions.create({
      model: "sim-1",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: Q }],
    });
    for await (const _ of exact) chunks++;
    const rows = (await admin<{ data: UsageRow[] }>("GET", "/agents/oa/usage?limit=2")).data;
    const [withUsage, without] = rows;
    expect(withUsage).toMatchObject({ surface: "chat", stream: true, usageEstimated: false });
    expect(without).toMatchObject({ surface: "chat", stream: true, usageEstimated: true });
    expect(without?.completionTokens).toBeGreaterThan(0);
    // The estimate is of the same order as the upstream's count of the same reply.
    expect(
      Math.abs((without?.completionTokens ?? 0) - (withUsage?.completionTokens ?? 0)) / (withUsage?.completionTokens ?? 1),
    ).toBeLessThan(0.5);
  });
});
