import { createExecutionContext, env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { call, expectErrorShape, json } from "./helpers";

/** Issue 16 at the chat endpoint: what comes back from an upstream, and how long it may take. */

type Reply = (request: Request) => Promise<Response> | Response;
let reply: Reply = () => new Response("{}");
const seen: Request[] = [];
const realFetch = globalThis.fetch;
let key = "";

beforeAll(async () => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.url.startsWith("https://hardened.example/")) return realFetch(input, init);
    seen.push(request);
    return reply(request);
  });
  expect(
    (
      await call("POST", "/api/agents", {
        name: "hardened",
        upstream: { baseUrl: "https://hardened.example/v1", model: "m", apiKey: "sk-agent-secret-000000" },
      })
    ).status,
  ).toBe(201);
  key = (await json<{ key: string }>(await call("POST", "/api/agents/hardened/keys", {}))).key;
});
afterAll(() => vi.restoreAllMocks());

const completion = {
  id: "c",
  object: "chat.completion",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
};
const chat = (body: unknown = { messages: [{ role: "user", content: "hi" }] }, vars: Record<string, string> = {}) => {
  const ctx = createExecutionContext();
  return app.fetch(
    new Request("http://tfgrpo.test/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
    { ...env, ...vars } as Env,
    ctx,
  );
};

describe("Proxy: upstream response header allowlist", () => {
  it("passes content type, rate limits, retry hints and request ids; drops cookies, organisation and project", async () => {
    reply = () =>
      Response.json(completion, {
        headers: {
          "set-cookie": "session=abc; Secure",
          "openai-organization": "org-secret",
          "openai-project": "proj_secret",
          server: "upstream/1.2",
          "x-ratelimit-remaining-requests": "99",
          "x-ratelimit-reset-tokens": "6ms",
          "retry-after": "1",
          "x-request-id": "req-up-1",
        },
      });
    const res = await chat();
    expect(res.status).toBe(200);
    for (const h of ["set-cookie", "openai-organization", "openai-project", "server"]) expect(res.headers.get(h), h).toBeNull();
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("99");
    expect(res.headers.get("x-ratelimit-reset-tokens")).toBe("6ms");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("x-upstream-request-id")).toBe("req-up-1");
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual(completion);
  });
});

describe("Proxy: upstream 401/403 bodies sanitised", () => {
  it.each([401, 403])("HTTP %i from the upstream becomes our 502 without its body", async (status) => {
    reply = () =>
      Response.json(
        {
          error: {
            message:
              "Incorrect API key provided: sk-agent-********0000. You can find your API key at https://platform.openai.com/account/api-keys.",
            code: "invalid_api_key",
          },
        },
        { status, headers: { "openai-organization": "org-secret" } },
      );
    const res = await chat();
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).not.toContain("sk-agent");
    expect(text).not.toContain("org-secret");
    const body = JSON.parse(text);
    expectErrorShape(body);
    expect(body.error.code).toBe("upstream_auth_failed");
    expect(body.error.message).toContain(`HTTP ${status}`);
  });
});

describe("Proxy: first-byte timeout", () => {
  it("answers 504 when the upstream accepts the request but never sends a byte", async () => {
    let aborted = false;
    reply = (request) =>
      new Promise<Response>((_, reject) => {
        request.signal.addEventListener("abort", () => {
          aborted = true;
          reject(request.signal.reason);
        });
      });
    const res = await chat(undefined, { UPSTREAM_FIRST_BYTE_TIMEOUT_MS: "200" });
    expect(res.status).toBe(504);
    const body = await json(res);
    expectErrorShape(body);
    expect(body.error.code).toBe("upstream_timeout");
    expect(aborted).toBe(true);
  });
});

describe("Proxy: /v1 body size limit → 413 before parsing", () => {
  it("refuses an oversize chat body without forwarding it", async () => {
    reply = () => Response.json(completion);
    seen.length = 0;
    const big = JSON.stringify({ messages: [{ role: "user", content: "x".repeat(11 * 1024 * 1024) }] });
    const res = await chat(big);
    expect(res.status).toBe(413);
    expectErrorShape(await json(res));
    const small = await chat({ messages: [{ role: "user", content: "x".repeat(2000) }] }, { MAX_PROXY_BODY_BYTES: "1000" });
    expect(small.status).toBe(413);
    expect(seen).toHaveLength(0);
  });
});

describe("Proxy: upstream redirects are not followed", () => {
  it("sends upstream requests with redirect: manual", async () => {
    reply = () => Response.json(completion);
    seen.length = 0;
    expect((await chat()).status).toBe(200);
    expect(seen[0]?.redirect).toBe("manual");
  });
});
