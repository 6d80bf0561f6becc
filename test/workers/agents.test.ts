import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, expectErrorShape, json } from "./helpers";

const baseAgent = {
  name: "math-tutor",
  upstream: { baseUrl: "https://api.example.com/v1", model: "deepseek-chat", apiKey: "sk-very-secret-upstream-key" },
  systemPrompt: "You solve math problems.",
  objective: "Solve competition math; answer in \\boxed{}.",
  verifier: { kind: "math" },
  trainingDefaults: { epochs: 2, groupSize: 4 },
};

describe("health and errors", () => {
  it("serves /healthz without a token", async () => {
    const res = await call("GET", "/healthz", undefined, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("answers unknown routes with a 404 in the OpenAI error shape", async () => {
    const res = await call("GET", "/nope");
    expect(res.status).toBe(404);
    expectErrorShape(await res.json());
  });

  it("publishes an OpenAPI document generated from the request schemas", async () => {
    const res = await call("GET", "/api/openapi.json", undefined, {});
    expect(res.status).toBe(200);
    const doc = await json<{
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    }>(res);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers[0]?.url).toBe("/api");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/agents", "/agents/{agent}", "/agents/{agent}/keys", "/datasets", "/runs"]),
    );
    expect(doc.components.schemas).toHaveProperty("AgentCreate");
  });
});

describe("admin auth", () => {
  it("rejects a missing token with 401", async () => {
    const res = await call("GET", "/api/agents", undefined, {});
    expect(res.status).toBe(401);
    const body = await res.json();
    expectErrorShape(body);
    expect(body.error.type).toBe("authentication_error");
  });

  it("rejects a wrong token with 401", async () => {
    const res = await call("GET", "/api/agents", undefined, { authorization: "Bearer test-admin-tokeX" });
    expect(res.status).toBe(401);
  });
});

describe("agents", () => {
  let agentId = "";

  it("creates an agent and never returns its upstream key", async () => {
    const res = await call("POST", "/api/agents", baseAgent);
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain("sk-very-secret-upstream-key");
    const agent = JSON.parse(text);
    agentId = agent.id;
    expect(agent).toMatchObject({
      name: "math-tutor",
      upstream: { model: "deepseek-chat", hasApiKey: true },
      injectPosition: "after",
      activeVersion: null,
    });
  });

  it("stores the key encrypted at rest", async () => {
    const row = await env.DB.prepare("SELECT upstream_key_cipher FROM agents WHERE id = ?")
      .bind(agentId)
      .first<{ upstream_key_cipher: string }>();
    expect(row?.upstream_key_cipher).toBeTruthy();
    expect(row?.upstream_key_cipher).not.toContain("sk-very-secret");
  });

  it("finds the agent by id and by name", async () => {
    const byId = await json(await call("GET", `/api/agents/${agentId}`));
    const byName = await json(await call("GET", "/api/agents/math-tutor"));
    expect(byId).toEqual(byName);
  });

  it("lists agents", async () => {
    const list = await json<{ data: { name: string }[] }>(await call("GET", "/api/agents"));
    expect(list.data.map((a) => a.name)).toContain("math-tutor");
  });

  it("refuses a duplicate name with 409", async () => {
    const res = await call("POST", "/api/agents", baseAgent);
    expect(res.status).toBe(409);
    expectErrorShape(await res.json());
  });

  it("patches fields, keeping what was not sent", async () => {
    const res = await call("PATCH", "/api/agents/math-tutor", { systemPrompt: "Be brief.", upstream: { model: "deepseek-reasoner" } });
    expect(res.status).toBe(200);
    const agent = await json<{ systemPrompt: string; upstream: { model: string; baseUrl: string; hasApiKey: boolean } }>(res);
    expect(agent.systemPrompt).toBe("Be brief.");
    expect(agent.upstream).toMatchObject({ model: "deepseek-reasoner", baseUrl: "https://api.example.com/v1", hasApiKey: true });
  });

  it.each([
    ["malformed JSON", "{ not json"],
    ["wrong types", JSON.stringify({ ...baseAgent, name: "other", upstream: { ...baseAgent.upstream, model: 42 } })],
    ["an unknown field", JSON.stringify({ ...baseAgent, name: "other", surprise: true })],
    ["a path-traversal name", JSON.stringify({ ...baseAgent, name: "../etc/passwd" })],
    ["an SQL-looking name", JSON.stringify({ ...baseAgent, name: "x'; DROP TABLE agents;--" })],
    [
      "a non-http upstream",
      JSON.stringify({ ...baseAgent, name: "other", upstream: { ...baseAgent.upstream, baseUrl: "file:///etc/passwd" } }),
    ],
    ["an unknown verifier", JSON.stringify({ ...baseAgent, name: "other", verifier: { kind: "vibes" } })],
    ["out-of-range defaults", JSON.stringify({ ...baseAgent, name: "other", trainingDefaults: { groupSize: 0 } })],
  ])("rejects %s with 400 and stores nothing", async (_label, body) => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM agents").first<{ n: number }>();
    const res = await call("POST", "/api/agents", body);
    expect(res.status).toBe(400);
    const parsed = await res.json();
    expectErrorShape(parsed);
    expect(parsed.error.type).toBe("invalid_request_error");
    const after = await env.DB.prepare("SELECT count(*) AS n FROM agents").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });

  it("rejects non-UTF-8 bytes with 400", async () => {
    const res = await call("POST", "/api/agents", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) as unknown as string);
    expect(res.status).toBe(400);
    expectErrorShape(await res.json());
  });

  it("answers 404 for an unknown agent", async () => {
    const res = await call("GET", "/api/agents/does-not-exist");
    expect(res.status).toBe(404);
    expectErrorShape(await res.json());
  });
});

describe("proxy keys", () => {
  it("mints a key once, stores only its hash, lists and revokes it", async () => {
    const created = await call("POST", "/api/agents/math-tutor/keys", { name: "prod" });
    expect(created.status).toBe(201);
    const key = await json<{ id: string; key: string; prefix: string }>(created);
    expect(key.key).toMatch(/^tfg_[0-9a-f]{32}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);

    const stored = await env.DB.prepare("SELECT * FROM proxy_keys WHERE id = ?").bind(key.id).first<Record<string, unknown>>();
    expect(JSON.stringify(stored)).not.toContain(key.key);

    const listed = await call("GET", "/api/agents/math-tutor/keys");
    const listText = await listed.text();
    expect(listText).toContain(key.id);
    expect(listText).not.toContain(key.key);

    expect((await call("DELETE", `/api/agents/math-tutor/keys/${key.id}`)).status).toBe(200);
    expect((await call("DELETE", `/api/agents/math-tutor/keys/${key.id}`)).status).toBe(404);
  });

  it("cannot revoke another agent's key through a different agent", async () => {
    await call("POST", "/api/agents", { ...baseAgent, name: "other-agent" });
    const key = await json<{ id: string }>(await call("POST", "/api/agents/math-tutor/keys"));
    const res = await call("DELETE", `/api/agents/other-agent/keys/${key.id}`);
    expect(res.status).toBe(404);
    const still = await env.DB.prepare("SELECT id FROM proxy_keys WHERE id = ?").bind(key.id).first();
    expect(still).not.toBeNull();
  });
});

describe("deleting agents", () => {
  it("deletes an agent and its keys", async () => {
    const res = await call("DELETE", "/api/agents/other-agent");
    expect(res.status).toBe(200);
    expect((await call("GET", "/api/agents/other-agent")).status).toBe(404);
  });

  it("hides the secret in errors too", async () => {
    const res = await call("PATCH", "/api/agents/math-tutor", { upstream: { apiKey: "sk-another-secret" }, bogus: 1 });
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain("sk-another-secret");
  });
});
