import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { sealedKeyId, sealingKey, sealSecret } from "../../src/auth/crypto";
import { setServingTtlOverride } from "../../src/serving/ttl";
import { call, expectErrorShape, json } from "./helpers";

/**
 * Issue 16, "Secrets": a stored upstream key never reaches a host it was not given for, Worker secrets
 * other than upstream keys are never sent upstream, and keys at rest are sealed with a real, versioned,
 * rotatable key bound to their agent. Upstreams are spies on fetch (https hosts that do not exist).
 */

const received: { url: string; authorization: string | null }[] = [];
const realFetch = globalThis.fetch;
beforeAll(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.url.includes(".example/")) return realFetch(input, init);
    received.push({ url: request.url, authorization: request.headers.get("authorization") });
    return Response.json({
      id: "c",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    });
  });
  // Every request re-reads the agent, so a PATCH is seen at once.
  setServingTtlOverride(0);
});
afterAll(() => {
  vi.restoreAllMocks();
  setServingTtlOverride(null);
});
afterEach(() => {
  received.length = 0;
});

async function agentWithKey(name: string, upstream: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await call("POST", "/api/agents", { name, upstream: { model: "m", ...upstream } });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  const { key } = await json<{ key: string }>(await call("POST", `/api/agents/${name}/keys`, {}));
  return { id, key };
}

const chat = (key: string) =>
  call("POST", "/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] }, { authorization: `Bearer ${key}` });

describe("Secrets: baseUrl origin change requires the key again or clears it", () => {
  it("refuses a move to another origin without the key, and never sends the old key there", async () => {
    const a = await agentWithKey("origin-move", { baseUrl: "https://api.one.example/v1", apiKey: "sk-one-secret" });
    expect((await chat(a.key)).status).toBe(200);
    expect(received.at(-1)).toEqual({ url: "https://api.one.example/v1/chat/completions", authorization: "Bearer sk-one-secret" });

    const moved = await call("PATCH", "/api/agents/origin-move", { upstream: { baseUrl: "https://evil.example/v1" } });
    expect(moved.status).toBe(400);
    const body = await json(moved);
    expectErrorShape(body);
    expect(body.error.code).toBe("upstream_key_required");

    // Same origin, other path: the key stays.
    expect((await call("PATCH", "/api/agents/origin-move", { upstream: { baseUrl: "https://api.one.example/v2" } })).status).toBe(200);
    await chat(a.key);
    expect(received.at(-1)).toEqual({ url: "https://api.one.example/v2/chat/completions", authorization: "Bearer sk-one-secret" });

    // Moving while clearing the key: the new host gets no key at all.
    const cleared = await call("PATCH", "/api/agents/origin-move", { upstream: { baseUrl: "https://evil.example/v1", apiKey: null } });
    expect(cleared.status).toBe(200);
    expect((await json<{ upstream: { hasApiKey: boolean } }>(cleared)).upstream.hasApiKey).toBe(false);
    await chat(a.key);
    expect(received.at(-1)).toEqual({ url: "https://evil.example/v1/chat/completions", authorization: null });
    expect(received.some((r) => r.url.startsWith("https://evil.example") && r.authorization !== null)).toBe(false);
  });

  it("accepts a move that gives the key for the new origin", async () => {
    const a = await agentWithKey("origin-rekey", { baseUrl: "https://api.one.example/v1", apiKey: "sk-one" });
    const res = await call("PATCH", "/api/agents/origin-rekey", { upstream: { baseUrl: "https://api.two.example/v1", apiKey: "sk-two" } });
    expect(res.status).toBe(200);
    await chat(a.key);
    expect(received.at(-1)).toEqual({ url: "https://api.two.example/v1/chat/completions", authorization: "Bearer sk-two" });
  });
});

describe("Secrets: apiKeySecret only with a documented prefix, never ADMIN_TOKEN/ENCRYPTION_KEY, generic error to proxy clients", () => {
  it.each(["ADMIN_TOKEN", "ENCRYPTION_KEY", "DB", "OPENAI_API_KEY"])("refuses apiKeySecret %s with 400", async (secret) => {
    const res = await call("POST", "/api/agents", {
      name: `bad-secret-${secret.toLowerCase().replace(/_/g, "-")}`,
      upstream: { baseUrl: "https://api.one.example/v1", model: "m", apiKeySecret: secret },
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expectErrorShape(body);
    expect(body.error.message).toContain("UPSTREAM_KEY_");
  });

  it("never sends a master secret named by a row stored before the rule, and tells the proxy client nothing specific", async () => {
    const a = await agentWithKey("legacy-secret", { baseUrl: "https://api.one.example/v1", apiKeySecret: "UPSTREAM_KEY_ONE" });
    await env.DB.prepare("UPDATE agents SET upstream_key_secret = 'ADMIN_TOKEN', updated_at = ? WHERE id = ?")
      .bind(new Date().toISOString(), a.id)
      .run();
    const res = await chat(a.key);
    expect(res.status).toBe(500);
    const body = await json(res);
    expectErrorShape(body);
    expect(body.error.code).toBe("upstream_misconfigured");
    expect(body.error.message).not.toContain("ADMIN_TOKEN");
    expect(received).toHaveLength(0);
  });

  it("does not echo an unset secret's name to proxy clients", async () => {
    const a = await agentWithKey("unset-secret", { baseUrl: "https://api.one.example/v1", apiKeySecret: "UPSTREAM_KEY_NOT_SET_ANYWHERE" });
    const res = await chat(a.key);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("UPSTREAM_KEY_NOT_SET_ANYWHERE");
    expect(text).toContain("misconfigured");
  });
});

describe("Secrets: ENCRYPTION_KEY of at least 32 random bytes, else the Worker refuses with a clear message", () => {
  async function fetchWith(key: string, path: string): Promise<Response> {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`http://tfgrpo.test${path}`, { headers: { authorization: "Bearer test-admin-token" } }),
      { ...env, ENCRYPTION_KEY: key },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }

  it.each([
    ["the old example's placeholder", "change-me"],
    ["a short key", btoa("0123456789abcdef")],
    ["32 bytes that are not random", btoa("a".repeat(32))],
  ])("refuses every request under %s", async (_, key) => {
    for (const path of ["/healthz", "/api/agents", "/v1/models"]) {
      const res = await fetchWith(key, path);
      expect(res.status).toBe(500);
      const body = await json(res);
      expectErrorShape(body);
      expect(body.error.code).toBe("server_misconfigured");
      expect(body.error.message).toContain("ENCRYPTION_KEY");
      expect(body.error.message).toContain("openssl rand -base64 32");
      expect(body.error.message).not.toContain(key);
    }
  });

  it("serves under 32 random bytes, base64 or hex", async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect((await fetchWith(btoa(String.fromCharCode(...bytes)), "/healthz")).status).toBe(200);
    expect((await fetchWith(hex, "/healthz")).status).toBe(200);
  });
});

describe("Secrets: ciphertext bound to the agent id as AES-GCM associated data", () => {
  it("a sealed key copied onto another agent does not decrypt there", async () => {
    const a = await agentWithKey("aad-owner", { baseUrl: "https://api.one.example/v1", apiKey: "sk-owner-only" });
    const b = await agentWithKey("aad-thief", { baseUrl: "https://api.one.example/v1", apiKey: "sk-thief" });
    const row = await env.DB.prepare("SELECT upstream_key_cipher AS c FROM agents WHERE id = ?").bind(a.id).first<{ c: string }>();
    expect(row?.c.startsWith("v1.")).toBe(true);
    await env.DB.prepare("UPDATE agents SET upstream_key_cipher = ?, updated_at = ? WHERE id = ?")
      .bind(row?.c, new Date().toISOString(), b.id)
      .run();
    const res = await chat(b.key);
    expect(res.status).toBe(500);
    expect(received.some((r) => r.authorization === "Bearer sk-owner-only")).toBe(false);
    expect((await chat(a.key)).status).toBe(200);
    expect(received.at(-1)?.authorization).toBe("Bearer sk-owner-only");
  });
});

describe("Secrets: versioned key with a documented rotation command (tfgrpo keys reseal)", () => {
  const NEW_KEY = "cPPi1udg61bpj0iXKMw8/vQbFm4at7eqlUyF+nGPjY4=";

  async function asWorker(vars: Record<string, string>, method: string, path: string, body?: unknown): Promise<Response> {
    const ctx = createExecutionContext();
    const init: RequestInit = { method, headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await app.fetch(new Request(`http://tfgrpo.test${path}`, init), { ...env, ...vars }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  it("moves every stored key, versioned or from before versioning, onto the new key; the old key is then unneeded", async () => {
    const oldKey = env.ENCRYPTION_KEY;
    const a = await agentWithKey("rotate-a", { baseUrl: "https://api.one.example/v1", apiKey: "sk-rotate-a" });
    const b = await agentWithKey("rotate-b", { baseUrl: "https://api.one.example/v1", apiKey: "placeholder" });
    // b holds a key sealed before versioning with the old example's weak secret (bare base64, no associated data).
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const legacyAes = await crypto.subtle.importKey(
      "raw",
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode("change-me")),
      "AES-GCM",
      false,
      ["encrypt"],
    );
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, legacyAes, new TextEncoder().encode("sk-rotate-b")));
    const legacyCipher = btoa(String.fromCharCode(...iv, ...ct));
    await env.DB.prepare("UPDATE agents SET upstream_key_cipher = ? WHERE id = ?").bind(legacyCipher, b.id).run();

    const rotating = { ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEY_PREVIOUS: oldKey };
    const first = await asWorker(rotating, "POST", "/api/maintenance/reseal-keys");
    expect(first.status).toBe(200);
    const report = await json<{ keyId: string; resealed: number; failed: { agentId: string }[] }>(first);
    expect(report.keyId).toBe((await sealingKey(NEW_KEY)).id);
    // a moved; b (sealed with "change-me", not configured) is reported, not lost.
    expect(report.failed.map((f) => f.agentId)).toContain(b.id);
    const second = await json<{ failed: { agentId: string }[] }>(
      await asWorker({ ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEY_PREVIOUS: "change-me" }, "POST", "/api/maintenance/reseal-keys"),
    );
    // (Only the agent given a ciphertext copied from another agent, above, stays unopenable, as it should.)
    expect(second.failed.map((f) => f.agentId)).not.toContain(b.id);
    expect(second.failed.map((f) => f.agentId)).not.toContain(a.id);

    const newId = (await sealingKey(NEW_KEY)).id;
    for (const id of [a.id, b.id]) {
      const row = await env.DB.prepare("SELECT upstream_key_cipher AS c FROM agents WHERE id = ?").bind(id).first<{ c: string }>();
      expect(sealedKeyId(row?.c ?? "")).toBe(newId);
    }
    // With only the new key configured (no previous), both agents are served with their own keys.
    const served: string[] = [];
    for (const agent of [a, b]) {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request("http://tfgrpo.test/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${agent.key}`, "content-type": "application/json" },
          body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
        }),
        { ...env, ENCRYPTION_KEY: NEW_KEY },
        ctx,
      );
      expect(res.status).toBe(200);
      served.push(received.at(-1)?.authorization ?? "");
    }
    expect(served).toEqual(["Bearer sk-rotate-a", "Bearer sk-rotate-b"]);
  });

  it("seals with a key id that names the key, so rotation can tell old from new", async () => {
    const k1 = await sealingKey(env.ENCRYPTION_KEY);
    const k2 = await sealingKey(NEW_KEY);
    expect(k1.id).not.toBe(k2.id);
    expect(sealedKeyId(await sealSecret("x", "agt_1", k1))).toBe(k1.id);
  });
});
