import { env } from "cloudflare:test";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { renderLibrary, type Experience } from "../../src/core/library";
import { db } from "../../src/db/client";
import { versionStatements } from "../../src/db/libraryVersions";
import { setServingTtlOverride } from "../../src/serving/ttl";
import { call, expectErrorShape, json } from "./helpers";

/**
 * The chat endpoint inside workerd. Upstream "http://upstream.test" is a spy on globalThis.fetch (the
 * Worker runs in this isolate), which records what reached the upstream; `sim://local` is the
 * in-process simulated model.
 */

const UPSTREAM = "http://upstream.test/v1";
const UPSTREAM_KEY = "sk-upstream-secret-of-alpha";

const V1: Experience[] = [
  { id: "E1", name: "Inclusive counting", text: "Count both endpoints: last - first + 1.", provenance: [] },
  { id: "E2", name: "Percent base", text: "A percentage applies to the original value.", provenance: [] },
];
const V2: Experience[] = [...V1, { id: "E3", name: "Negative remainders", text: "A remainder is never negative.", provenance: [] }];

type Recorded = { url: string; headers: Headers; body: Record<string, unknown> & { messages: { role: string; content: unknown }[] } };
const received: Recorded[] = [];
let aborts = 0;
type Reply = (body: Recorded["body"]) => Response;
let reply: Reply = () => completion("ok");

function completion(
  text: string,
  usage = { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14, prompt_tokens_details: { cached_tokens: 5 } },
) {
  return Response.json(
    {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1,
      model: "up-model",
      choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
      usage,
    },
    { headers: { "x-request-id": "upstream-req-1" } },
  );
}

function sse(events: unknown[], onCancel?: () => void, hold = false): Response {
  const encoder = new TextEncoder();
  const lines = events.map((e) => `data: ${JSON.stringify(e)}\n\n`);
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const line = lines[i++];
      if (line !== undefined) controller.enqueue(encoder.encode(line));
      else if (!hold) {
        controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        controller.close();
      } else return new Promise(() => undefined); // a stream that never ends on its own
    },
    cancel() {
      onCancel?.();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

const chunk = (content: string) => ({
  id: "c",
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
  usage: null,
});

const realFetch = globalThis.fetch;
beforeAll(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(UPSTREAM)) return realFetch(input, init);
    const body = (await request.json()) as Recorded["body"];
    received.push({ url: request.url, headers: request.headers, body });
    request.signal.addEventListener("abort", () => aborts++, { once: true });
    return reply(body);
  });
});
afterAll(() => vi.restoreAllMocks());
afterEach(() => {
  reply = () => completion("ok");
  received.length = 0;
  setServingTtlOverride(null);
});

const last = () => {
  const r = received.at(-1);
  if (!r) throw new Error("nothing reached the upstream");
  return r;
};

async function createAgent(
  name: string,
  upstream: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; key: string; keyId: string }> {
  const res = await call("POST", "/api/agents", { name, upstream, ...extra });
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  const keyRes = await call("POST", `/api/agents/${name}/keys`, { name: "test" });
  expect(keyRes.status).toBe(201);
  const k = await json<{ key: string; id: string }>(keyRes);
  return { id, key: k.key, keyId: k.id };
}

async function addVersion(agentId: string, version: number, items: Experience[]): Promise<void> {
  const d = db(env.DB);
  const [first, ...rest] = versionStatements(
    d,
    { agentId, version, parentVersion: version - 1 || null, runId: null, originKey: `test/${version}`, note: "" },
    items,
  );
  if (!first) throw new Error("no statements");
  await d.batch([first, ...rest]);
}

/** A promotion as training or another isolate would do it: straight to D1, no admin call here. */
async function promote(agentId: string, version: number): Promise<void> {
  await env.DB.prepare("UPDATE agents SET active_version = ? WHERE id = ?").bind(version, agentId).run();
}

function chat(key: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call("POST", "/v1/chat/completions", body, { authorization: `Bearer ${key}`, ...headers });
}

const USER = { role: "user", content: "How many integers from 3 to 9?" };

let alpha: { id: string; key: string; keyId: string };
let beta: { id: string; key: string; keyId: string };
let sim: { id: string; key: string; keyId: string };

beforeAll(async () => {
  alpha = await createAgent("alpha", { baseUrl: UPSTREAM, model: "up-model", apiKey: UPSTREAM_KEY }, { allowedModels: ["up-model-mini"] });
  beta = await createAgent(
    "beta",
    { baseUrl: UPSTREAM, model: "beta-model", apiKey: "sk-upstream-secret-of-beta" },
    { injectPosition: "before" },
  );
  sim = await createAgent("simmy", { baseUrl: "sim://local", model: "sim-1" });
  await addVersion(alpha.id, 1, V1);
  await addVersion(alpha.id, 2, V2);
  await promote(alpha.id, 1);
  await addVersion(beta.id, 1, [{ id: "E1", name: "Beta only", text: "Secret beta experience.", provenance: [] }]);
  await promote(beta.id, 1);
});

describe("authentication", () => {
  it.each([
    ["no header", {}],
    ["an unknown key", { authorization: "Bearer tfg_00000000000000000000000000000000" }],
    ["a malformed key", { authorization: "Bearer nope" }],
    ["the admin token", { authorization: "Bearer test-admin-token" }],
  ])("refuses %s with 401 in the OpenAI error shape", async (_, headers) => {
    const res = await call("POST", "/v1/chat/completions", { messages: [USER] }, headers);
    expect(res.status).toBe(401);
    const body = await res.json();
    expectErrorShape(body);
    expect(body.error.type).toBe("authentication_error");
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(received).toHaveLength(0);
  });

  it("refuses a revoked key at once in the isolate that revoked it", async () => {
    const extra = await json<{ key: string; id: string }>(await call("POST", "/api/agents/alpha/keys", {}));
    expect((await chat(extra.key, { messages: [USER] })).status).toBe(200);
    expect((await call("DELETE", `/api/agents/alpha/keys/${extra.id}`)).status).toBe(200);
    expect((await chat(extra.key, { messages: [USER] })).status).toBe(401);
  });

  it("keeps each agent's key on its own library and upstream key", async () => {
    await chat(beta.key, { messages: [{ role: "system", content: "S" }, USER] });
    const r = last();
    expect(r.headers.get("authorization")).toBe("Bearer sk-upstream-secret-of-beta");
    expect(JSON.stringify(r.body)).toContain("Secret beta experience.");
    expect(JSON.stringify(r.body)).not.toContain("Inclusive counting");
    await chat(alpha.key, { messages: [USER] });
    expect(last().headers.get("authorization")).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(last().body)).not.toContain("Secret beta experience.");
  });
});

describe("GET /v1/models", () => {
  it("lists the upstream model first, then the allowed ones", async () => {
    const res = await call("GET", "/v1/models", undefined, { authorization: `Bearer ${alpha.key}` });
    expect(res.status).toBe(200);
    const body = await json<{ object: string; data: { id: string; object: string }[] }>(res);
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["up-model", "up-model-mini"]);
  });
});

describe("routing between the proxy and the admin API", () => {
  const auth = () => ({ authorization: `Bearer ${alpha.key}` });

  it("sends /v1 paths, with or without a query, to the proxy and its key check", async () => {
    expect((await call("GET", "/v1/models?limit=5", undefined, auth())).status).toBe(200);
    const missingKey = await call("GET", "/v1/models", undefined, {});
    expect(missingKey.status).toBe(401);
    expect(missingKey.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{24}$/);
    const unknown = await call("GET", "/v1/nope", undefined, auth());
    expect(unknown.status).toBe(404);
    expect(await json<{ error: { code: string } }>(unknown)).toMatchObject({ error: { code: "route_not_found" } });
  });

  it("does not mistake look-alike paths for the proxy", async () => {
    for (const path of ["/v1x/models", "/xv1/models", "/v2/models"]) {
      const res = await call("GET", path, undefined, auth());
      expect(res.status, path).toBe(404);
    }
    expect((await call("GET", "/healthz?v1", undefined, {})).status).toBe(200);
  });
});

describe("injection", () => {
  it("merges the active library into the client's system message, forwarding everything else unchanged", async () => {
    const tools = [{ type: "function", function: { name: "calc", parameters: { type: "object", properties: {} } } }];
    const request = {
      messages: [{ role: "system", content: "Be exact.", name: "sys" }, USER],
      tools,
      tool_choice: "auto",
      response_format: { type: "text" },
      n: 2,
      seed: 7,
      logprobs: true,
      x_vendor_field: { keep: [1, 2, 3] },
    };
    const res = await chat(alpha.key, request);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-experience-version")).toBe("1");
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(res.headers.get("x-upstream-request-id")).toBe("upstream-req-1");
    expect(await json(res)).toMatchObject({ id: "chatcmpl-1", choices: [{ message: { content: "ok" } }] });

    const r = last();
    expect(r.url).toBe(`${UPSTREAM}/chat/completions`);
    expect(r.headers.get("authorization")).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(r.body).toEqual({
      ...request,
      model: "up-model",
      messages: [{ role: "system", content: `Be exact.\n\n${renderLibrary(V1)}`, name: "sys" }, USER],
    });
    expect(r.body.messages.filter((m) => m.role === "system")).toHaveLength(1);
  });

  it("inserts one system message when the client sent none, and is byte-for-byte stable", async () => {
    await chat(alpha.key, { messages: [USER] });
    const first = JSON.stringify(last().body);
    await chat(alpha.key, { messages: [USER] });
    expect(JSON.stringify(last().body)).toBe(first);
    expect(last().body.messages).toEqual([{ role: "system", content: renderLibrary(V1) }, USER]);
  });

  it("puts the library before the client's text when the agent says so", async () => {
    await chat(beta.key, { messages: [{ role: "developer", content: "Rules." }, USER] });
    expect(last().body.messages[0]).toEqual({
      role: "developer",
      content: `${renderLibrary([{ id: "E1", name: "Beta only", text: "Secret beta experience." }])}\n\nRules.`,
    });
  });

  it("adds a text part to a content-part system message", async () => {
    await chat(alpha.key, { messages: [{ role: "system", content: [{ type: "text", text: "Parts." }] }, USER] });
    expect(last().body.messages[0]?.content).toEqual([
      { type: "text", text: "Parts." },
      { type: "text", text: renderLibrary(V1) },
    ]);
  });

  it("skips injection with x-experiences: off", async () => {
    const messages = [{ role: "system", content: "Be exact." }, USER];
    const res = await chat(alpha.key, { messages }, { "x-experiences": "off" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-experience-version")).toBe("none");
    expect(last().body.messages).toEqual(messages);
  });

  it("serves no library (version none) for an agent with no active version", async () => {
    const res = await chat(sim.key, { messages: [USER] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-experience-version")).toBe("none");
  });
});

describe("models", () => {
  it("accepts an omitted model, the upstream model and an allowed one", async () => {
    await chat(alpha.key, { messages: [USER] });
    expect(last().body.model).toBe("up-model");
    await chat(alpha.key, { model: "up-model-mini", messages: [USER] });
    expect(last().body.model).toBe("up-model-mini");
  });

  it("refuses a model the agent does not allow with 400", async () => {
    const res = await chat(alpha.key, { model: "gpt-9", messages: [USER] });
    expect(res.status).toBe(400);
    const body = await res.json();
    expectErrorShape(body);
    expect(body.error).toMatchObject({ code: "model_not_allowed", param: "model" });
    expect(received).toHaveLength(0);
  });
});

describe("request validation", () => {
  it.each([
    ["not JSON", "{nope"],
    ["no messages", { model: "up-model" }],
    ["messages not an array", { messages: "hi" }],
    ["a message without a role", { messages: [{ content: "hi" }] }],
    ["a JSON array", [1, 2]],
  ])("refuses %s with 400", async (_, body) => {
    const res = await chat(alpha.key, body);
    expect(res.status).toBe(400);
    expectErrorShape(await res.json());
    expect(received).toHaveLength(0);
  });
});

describe("version pinning", () => {
  it("is refused with 403 when the agent does not allow it", async () => {
    const res = await chat(alpha.key, { messages: [USER] }, { "x-experience-version": "2" });
    expect(res.status).toBe(403);
    const body = await res.json();
    expectErrorShape(body);
    expect(body.error.code).toBe("version_pin_disabled");
  });

  it("serves an older version once enabled; unknown is 404, malformed 400", async () => {
    expect((await call("PATCH", "/api/agents/alpha", { allowVersionPin: true })).status).toBe(200);
    await promote(alpha.id, 2);
    const res = await chat(alpha.key, { messages: [USER] }, { "x-experience-version": "1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-experience-version")).toBe("1");
    expect(last().body.messages[0]).toEqual({ role: "system", content: renderLibrary(V1) });

    const active = await chat(alpha.key, { messages: [USER] });
    expect(active.headers.get("x-experience-version")).toBe("2");
    expect(last().body.messages[0]).toEqual({ role: "system", content: renderLibrary(V2) });

    const unknown = await chat(alpha.key, { messages: [USER] }, { "x-experience-version": "99" });
    expect(unknown.status).toBe(404);
    expect((await json<{ error: { code: string } }>(unknown)).error.code).toBe("version_not_found");
    expect((await chat(alpha.key, { messages: [USER] }, { "x-experience-version": "v1" })).status).toBe(400);

    expect((await call("PATCH", "/api/agents/alpha", { allowVersionPin: false })).status).toBe(200);
    await promote(alpha.id, 1);
    expect((await chat(alpha.key, { messages: [USER] }, { "x-experience-version": "1" })).status).toBe(403);
  });
});

describe("cache refresh", () => {
  it("serves a promotion made elsewhere within the TTL", async () => {
    setServingTtlOverride(1);
    // Prime: the cached state says version 1.
    await chat(alpha.key, { messages: [USER] });
    await promote(alpha.id, 2);
    const promotedAt = Date.now();
    // Straight after the promotion this isolate still trusts its cache...
    expect((await chat(alpha.key, { messages: [USER] })).headers.get("x-experience-version")).toBe("1");
    // ...and serves the new version within the TTL.
    let served = "1";
    while (served !== "2" && Date.now() - promotedAt < 3000) {
      await new Promise((r) => setTimeout(r, 50));
      served = (await chat(alpha.key, { messages: [USER] })).headers.get("x-experience-version") ?? "";
    }
    expect(served).toBe("2");
    expect(Date.now() - promotedAt).toBeLessThan(1000 + 500);
    expect(last().body.messages[0]).toEqual({ role: "system", content: renderLibrary(V2) });
    await promote(alpha.id, 1);
    const backAt = Date.now();
    while (served !== "1" && Date.now() - backAt < 3000) {
      await new Promise((r) => setTimeout(r, 50));
      served = (await chat(alpha.key, { messages: [USER] })).headers.get("x-experience-version") ?? "";
    }
    expect(served).toBe("1");
  });
});

describe("upstream responses", () => {
  it("passes an upstream error through with its status, body and retry-after", async () => {
    const upstreamError = { error: { message: "Rate limit reached", type: "rate_limit_error", code: "rate_limit_exceeded", param: null } };
    reply = () => Response.json(upstreamError, { status: 429, headers: { "retry-after": "7" } });
    const res = await chat(alpha.key, { messages: [USER] });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(res.headers.get("x-experience-version")).toBe("1");
    expect(await res.json()).toEqual(upstreamError);
  });

  it("streams SSE through chunk by chunk with our headers", async () => {
    reply = () =>
      sse([
        chunk("Hel"),
        chunk("lo"),
        {
          id: "c",
          object: "chat.completion.chunk",
          choices: [],
          usage: { prompt_tokens: 21, completion_tokens: 2, total_tokens: 23, prompt_tokens_details: { cached_tokens: 16 } },
        },
      ]);
    const res = await chat(alpha.key, { messages: [USER], stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    expect(res.headers.get("x-experience-version")).toBe("1");
    const text = await res.text();
    expect(text).toContain('"content":"Hel"');
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
    expect(last().body.stream_options).toEqual({ include_usage: true });
  });

  it("aborts the upstream request when the client goes away, and logs it as 499", async () => {
    reply = () => sse([chunk("a"), chunk("b")], undefined, true);
    const res = await chat(alpha.key, { messages: [USER], stream: true });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"content":"a"');
    const abortsBefore = aborts;
    await reader.cancel();
    const deadline = Date.now() + 2000;
    while (aborts === abortsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // The client's request signal, passed to the upstream fetch, aborted it.
    expect(aborts).toBeGreaterThan(abortsBefore);
    const requestId = res.headers.get("x-request-id");
    let status: number | undefined;
    while (status === undefined && Date.now() < deadline + 2000) {
      const view = await json<{ data: { requestId: string; status: number }[] }>(await call("GET", "/api/agents/alpha/usage?limit=20"));
      status = view.data.find((r) => r.requestId === requestId)?.status;
      if (status === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(499);
  });

  it("answers 502 in our shape when the upstream cannot be reached", async () => {
    reply = () => {
      throw new TypeError("connection refused");
    };
    const res = await chat(alpha.key, { messages: [USER] });
    expect(res.status).toBe(502);
    const body = await res.json();
    expectErrorShape(body);
    expect(JSON.stringify(body)).not.toContain(UPSTREAM_KEY);
  });
});

describe("simulated upstream (sim://local)", () => {
  it("answers through the in-process simulated model, streamed and not", async () => {
    const res = await chat(sim.key, { messages: [USER], seed: 1 });
    expect(res.status).toBe(200);
    const body = await json<{ model: string; choices: { message: { content: string } }[] }>(res);
    expect(body.model).toBe("sim-1");
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    const streamed = await chat(sim.key, { messages: [USER], seed: 1, stream: true });
    expect(streamed.headers.get("content-type")).toContain("text/event-stream");
    expect(await streamed.text()).toContain("[DONE]");
  });
});

describe("usage log", () => {
  type UsageView = {
    totals: { requests: number; errors: number; promptTokens: number; completionTokens: number; cachedTokens: number };
    data: {
      requestId: string;
      keyId: string | null;
      model: string | null;
      version: number | null;
      status: number;
      stream: boolean;
      promptTokens: number | null;
      completionTokens: number | null;
      cachedTokens: number | null;
      latencyMs: number;
      ttfbMs: number | null;
    }[];
  };

  async function usageFor(requestId: string): Promise<UsageView["data"][number]> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const view = await json<UsageView>(await call("GET", "/api/agents/beta/usage?limit=100"));
      const row = view.data.find((r) => r.requestId === requestId);
      if (row) return row;
      if (Date.now() > deadline) throw new Error(`no usage row for ${requestId}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("records a non-streamed request with the upstream's token usage", async () => {
    const res = await chat(beta.key, { messages: [USER] });
    await res.text();
    const row = await usageFor(res.headers.get("x-request-id")!);
    expect(row).toMatchObject({
      keyId: beta.keyId,
      model: "beta-model",
      version: 1,
      status: 200,
      stream: false,
      promptTokens: 11,
      completionTokens: 3,
      cachedTokens: 5,
    });
    expect(row.latencyMs).toBeGreaterThanOrEqual(0);
    expect(row.ttfbMs).not.toBeNull();
  });

  it("sends a reply of declared length on as one buffer, byte for byte, and still logs its usage", async () => {
    const text = JSON.stringify({
      id: "chatcmpl-9",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: "naïve ✓" } }],
      usage: { prompt_tokens: 21, completion_tokens: 4 },
    });
    const bytes = new TextEncoder().encode(text);
    reply = () => new Response(bytes, { headers: { "content-type": "application/json", "content-length": String(bytes.byteLength) } });
    const res = await chat(beta.key, { messages: [USER] });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(text);
    const row = await usageFor(res.headers.get("x-request-id")!);
    expect(row).toMatchObject({ status: 200, stream: false, promptTokens: 21, completionTokens: 4, cachedTokens: null });
    expect(row.ttfbMs).not.toBeNull();
  });

  it("answers 502 in our shape when a reply of declared length is cut off", async () => {
    reply = () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"id":"chatcmpl-1","choi'));
          controller.error(new Error("connection reset"));
        },
      });
      return new Response(body, { headers: { "content-type": "application/json", "content-length": "400" } });
    };
    const res = await chat(beta.key, { messages: [USER] });
    expect(res.status).toBe(502);
    expect(await json<{ error: { code: string } }>(res)).toMatchObject({ error: { code: "upstream_unreachable" } });
    expect((await usageFor(res.headers.get("x-request-id")!)).status).toBe(502);
  });

  it("records a streamed request with the usage chunk's tokens", async () => {
    reply = () =>
      sse([
        chunk("x"),
        {
          id: "c",
          object: "chat.completion.chunk",
          choices: [],
          usage: { prompt_tokens: 40, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 32 } },
        },
      ]);
    const res = await chat(beta.key, { messages: [USER], stream: true, stream_options: { include_usage: true } });
    await res.text();
    const row = await usageFor(res.headers.get("x-request-id")!);
    expect(row).toMatchObject({ status: 200, stream: true, promptTokens: 40, completionTokens: 1, cachedTokens: 32, version: 1 });
  });

  it("records refused and failed requests too, and totals add up", async () => {
    reply = () => Response.json({ error: { message: "busy", type: "server_error", code: null, param: null } }, { status: 503 });
    const failed = await chat(beta.key, { messages: [USER] });
    expect(failed.status).toBe(503);
    // The row is written once the body has reached the client (its latency is the time to the last byte).
    expect(await failed.json()).toMatchObject({ error: { message: "busy" } });
    const row = await usageFor(failed.headers.get("x-request-id")!);
    expect(row.status).toBe(503);
    const refused = await chat(beta.key, { model: "nope", messages: [USER] });
    expect((await usageFor(refused.headers.get("x-request-id")!)).status).toBe(400);

    const view = await json<UsageView>(await call("GET", "/api/agents/beta/usage?limit=2"));
    expect(view.data).toHaveLength(2);
    expect(view.totals.requests).toBeGreaterThanOrEqual(4);
    expect(view.totals.errors).toBeGreaterThanOrEqual(2);
    expect(view.totals.promptTokens).toBeGreaterThanOrEqual(51);
  });

  it("updates the key's last_used_at", async () => {
    const keys = await json<{ data: { id: string; lastUsedAt: string | null }[] }>(await call("GET", "/api/agents/beta/keys"));
    expect(keys.data.find((k) => k.id === beta.keyId)?.lastUsedAt).toMatch(/^\d{4}-/);
  });
});
