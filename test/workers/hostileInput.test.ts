import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { d1Counts, resetD1Counts } from "../../src/db/counting";
import { call, expectErrorShape, json } from "./helpers";

/** Issue 16, "Hostile and oversized input", at the admin API and the proxy's front door. */

const agent = (name: string, upstream: Record<string, unknown>) =>
  call("POST", "/api/agents", { name, upstream: { model: "m", ...upstream } });

async function expectError(res: Response, status: number, code?: string) {
  expect(res.status).toBe(status);
  const body = await json(res);
  expectErrorShape(body);
  if (code) expect(body.error.code).toBe(code);
  return body;
}

describe("Hostile input: admin JSON body size limit → 413 before parsing", () => {
  it("refuses a declared oversize body with 413 in the OpenAI error shape", async () => {
    const big = JSON.stringify({
      name: "big",
      upstream: { baseUrl: "https://api.example.com/v1", model: "m" },
      systemPrompt: "x".repeat(2 * 1024 * 1024),
    });
    await expectError(await call("POST", "/api/agents", big), 413, "body_too_large");
    expect((await call("GET", "/api/agents/big")).status).toBe(404);
  });

  it("refuses an oversize chunked body (no content-length) while reading it", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("http://tfgrpo.test/api/runs", {
        method: "POST",
        body,
        headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
        duplex: "half",
      } as RequestInit),
      env,
      ctx,
    );
    await expectError(res, 413, "body_too_large");
    // Reading stopped at the limit: far fewer chunks pulled than offered.
    expect(sent).toBeLessThan(40);
  });

  it("honours MAX_ADMIN_BODY_BYTES", async () => {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("http://tfgrpo.test/api/agents", {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
        body: JSON.stringify({ name: "small-limit", upstream: { baseUrl: "sim://local", model: "m" } }),
      }),
      { ...env, MAX_ADMIN_BODY_BYTES: "20" } as Env,
      ctx,
    );
    await expectError(res, 413, "body_too_large");
  });
});

describe("Hostile input: API key with CR/LF → 400", () => {
  it.each(["sk-abc\r\nx-evil: 1", "sk-abc\n", "sk abc", "sk-\u0000abc"])("refuses %j", async (apiKey) => {
    const body = await expectError(
      await agent(`crlf-${Math.random().toString(36).slice(2, 8)}`, { baseUrl: "https://api.example.com/v1", apiKey }),
      400,
    );
    expect(body.error.param).toBe("upstream.apiKey");
  });
});

describe("Hostile input: exact proxy key format check before any D1 query", () => {
  it.each([
    ["a prefix-only key", "tfg_"],
    ["a long key", `tfg_${"a".repeat(150)}`],
    ["upper-case hex", `tfg_${"A".repeat(32)}`],
    ["one digit short", `tfg_${"0".repeat(31)}`],
    ["non-hex", `tfg_${"z".repeat(32)}`],
  ])("refuses %s with 401 and no D1 query", async (_, key) => {
    resetD1Counts();
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("http://tfgrpo.test/v1/models", { headers: { authorization: `Bearer ${key}` } }),
      { ...env, DEBUG_COUNT_D1: "1" } as Env,
      ctx,
    );
    await expectError(res, 401, "invalid_api_key");
    expect(d1Counts().roundTrips).toBe(0);
  });

  it("a well-formed unknown key costs exactly one query", async () => {
    resetD1Counts();
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("http://tfgrpo.test/v1/models", { headers: { authorization: `Bearer tfg_${"0".repeat(32)}` } }),
      { ...env, DEBUG_COUNT_D1: "1" } as Env,
      ctx,
    );
    await expectError(res, 401);
    expect(d1Counts().roundTrips).toBe(1);
  });
});

describe("Hostile input: upstream base URL policy (https only, no userinfo, no private/link-local IP literals, http/loopback only for local development)", () => {
  const deployed = { ...env, LOCAL_DEVELOPMENT: "" };
  async function createAs(vars: Env, baseUrl: string): Promise<Response> {
    const ctx = createExecutionContext();
    return app.fetch(
      new Request("http://tfgrpo.test/api/agents", {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
        body: JSON.stringify({ name: `url-${Math.random().toString(36).slice(2, 10)}`, upstream: { baseUrl, model: "m" } }),
      }),
      vars,
      ctx,
    );
  }

  it.each([
    "http://api.example.com/v1",
    "https://user:pass@api.example.com/v1",
    "https://169.254.169.254/latest",
    "https://10.0.0.7/v1",
    "https://172.20.1.1/v1",
    "https://192.168.1.10/v1",
    "https://100.64.0.1/v1",
    "https://[fe80::1]/v1",
    "https://[fd00::1]/v1",
    "https://[::ffff:10.0.0.1]/v1",
    "https://0x7f.1/v1",
    "https://127.0.0.1/v1",
    "https://localhost/v1",
    "https://[::1]/v1",
    "ftp://api.example.com/v1",
  ])("a deployed Worker refuses %s", async (url) => {
    const body = await expectError(await createAs(deployed, url), 400);
    expect(body.error.param).toBe("upstream.baseUrl");
  });

  it.each(["https://api.openai.com/v1", "https://8.8.8.8/v1", "sim://local?fault_rate=0.1"])(
    "a deployed Worker accepts %s",
    async (url) => {
      expect((await createAs(deployed, url)).status).toBe(201);
    },
  );

  it.each(["http://127.0.0.1:8787/v1", "http://localhost:11434/v1", "http://[::1]:9000/v1"])(
    "local development accepts %s",
    async (url) => {
      expect((await createAs(env, url)).status).toBe(201);
    },
  );

  it("local development still refuses private and link-local addresses and credentials", async () => {
    await expectError(await createAs(env, "http://169.254.169.254/"), 400);
    await expectError(await createAs(env, "https://u:p@localhost/v1"), 400);
  });

  it("an agent stored with a loopback upstream is not served by a deployed Worker, and no request leaves", async () => {
    const created = await agent("stored-loopback", { baseUrl: "http://127.0.0.1:9/v1" });
    expect(created.status).toBe(201);
    const { key } = await json<{ key: string }>(await call("POST", "/api/agents/stored-loopback/keys", {}));
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("http://tfgrpo.test/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
      }),
      deployed,
      ctx,
    );
    const body = await expectError(res, 500, "upstream_misconfigured");
    expect(body.error.message).not.toContain("127.0.0.1");
  });
});
