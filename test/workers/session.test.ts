/**
 * The dashboard's session (docs/dashboard.md §2): the admin token exchanged for a cookie; the cookie
 * admits admin API reads, and writes only with the CSRF header and a same-origin Origin; the Bearer
 * token keeps working for the CLI.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { issueSession } from "../../src/auth/session";
import { call, expectErrorShape, json } from "./helpers";

const ORIGIN = "http://tfgrpo.test";
const WRITE = { origin: ORIGIN, "x-tfgrpo-csrf": "1", "content-type": "application/json" };

async function send(method: string, path: string, headers: Record<string, string>, body?: unknown, base = ORIGIN): Promise<Response> {
  return exports.default.fetch(
    new Request(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
}

async function signIn(base = ORIGIN): Promise<{ res: Response; cookie: string }> {
  const res = await send("POST", "/auth/session", { ...WRITE, origin: base }, { token: "test-admin-token" }, base);
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { res, cookie: setCookie.split(";")[0] ?? "" };
}

describe("signing in", () => {
  it("with the right token sets an HttpOnly, SameSite=Strict, expiring cookie that holds no token", async () => {
    const { res, cookie } = await signIn();
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^tfgrpo_session=\d+\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    expect(setCookie).not.toContain("test-admin-token");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await json<{ signedIn: boolean; expiresAt: string }>(res);
    expect(body.signedIn).toBe(true);
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
    const check = await send("GET", "/auth/session", { cookie });
    expect(await json(check)).toEqual({ signedIn: true, expiresAt: body.expiresAt });
    expect(await json(await send("GET", "/auth/session", {}))).toEqual({ signedIn: false, expiresAt: null });
  });

  it("over https uses the __Host- prefix and Secure", async () => {
    const { res } = await signIn("https://tfgrpo.test");
    expect(res.headers.get("set-cookie")).toMatch(/^__Host-tfgrpo_session=.*; Secure$/);
  });

  it("with a wrong token answers 401 in the error shape and sets no cookie", async () => {
    const res = await send("POST", "/auth/session", WRITE, { token: "wrong" });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    const body = await json(res);
    expectErrorShape(body);
    expect(body.error.message).toBe("wrong admin token");
  });

  it("from another origin, or without the CSRF header, is refused before the token is looked at", async () => {
    const attempts: Record<string, string>[] = [
      { ...WRITE, origin: "http://evil.example" },
      { origin: ORIGIN, "content-type": "application/json" },
      { "x-tfgrpo-csrf": "1" },
    ];
    for (const headers of attempts) {
      const res = await send("POST", "/auth/session", headers, { token: "test-admin-token" });
      expect(res.status).toBe(403);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe("csrf_rejected");
    }
  });

  it("with a malformed or oversized body answers 400 / 413", async () => {
    expect((await send("POST", "/auth/session", WRITE, { token: 5 })).status).toBe(400);
    expect(
      (await exports.default.fetch(new Request(`${ORIGIN}/auth/session`, { method: "POST", headers: WRITE, body: "{not json" }))).status,
    ).toBe(400);
    expect((await send("POST", "/auth/session", WRITE, { token: "x".repeat(5000) })).status).toBe(413);
  });
});

describe("a session cookie on the admin API", () => {
  it("admits reads", async () => {
    const { cookie } = await signIn();
    const res = await send("GET", "/api/agents", { cookie });
    expect(res.status).toBe(200);
  });

  it("admits a write only with the CSRF header and a same-origin Origin; refused writes store nothing", async () => {
    const { cookie } = await signIn();
    const agent = (name: string) => ({ name, upstream: { baseUrl: "sim://local", model: "sim-1" } });
    const refused: Record<string, string>[] = [
      { cookie, "content-type": "application/json" },
      { cookie, "content-type": "application/json", origin: ORIGIN },
      { cookie, "content-type": "application/json", "x-tfgrpo-csrf": "1" },
      { cookie, "content-type": "application/json", "x-tfgrpo-csrf": "1", origin: "http://evil.example" },
    ];
    for (const headers of refused) {
      const res = await send("POST", "/api/agents", headers, agent("csrf-victim"));
      expect(res.status).toBe(403);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe("csrf_rejected");
    }
    expect((await call("GET", "/api/agents/csrf-victim")).status).toBe(404);
    const ok = await send("POST", "/api/agents", { cookie, ...WRITE }, agent("session-made"));
    expect(ok.status).toBe(201);
  });

  it("that is forged, tampered with or expired answers 401 session_expired", async () => {
    const { cookie } = await signIn();
    const [name, value] = cookie.split("=") as [string, string];
    const [expires, nonce, mac] = value.split(".") as [string, string, string];
    const tampered = `${expires}.${nonce}.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`;
    const expired = await issueSession("test-admin-token", Math.floor(Date.now() / 1000) - 9 * 3600);
    const otherKey = await issueSession("another-token", Math.floor(Date.now() / 1000));
    for (const bad of [tampered, expired.value, otherKey.value, "garbage"]) {
      const res = await send("GET", "/api/agents", { cookie: `${name}=${bad}` });
      expect(res.status).toBe(401);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe("session_expired");
      expect(await json(await send("GET", "/auth/session", { cookie: `${name}=${bad}` }))).toEqual({ signedIn: false, expiresAt: null });
    }
  });

  it("does not replace the Bearer token: the CLI writes without Origin or CSRF header", async () => {
    const res = await call("POST", "/api/agents", { name: "bearer-made", upstream: { baseUrl: "sim://local", model: "sim-1" } });
    expect(res.status).toBe(201);
    expect((await send("GET", "/api/agents", {})).status).toBe(401);
  });
});

describe("signing out", () => {
  it("clears the cookie", async () => {
    const { cookie } = await signIn();
    const res = await send("DELETE", "/auth/session", { cookie, origin: ORIGIN, "x-tfgrpo-csrf": "1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toBe("tfgrpo_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  });
});
