import { describe, expect, it } from "vitest";
import {
  SESSION_SECONDS,
  changesState,
  clearSessionCookie,
  issueSession,
  readSessionCookie,
  sameOriginWrite,
  sessionCookie,
  verifySession,
} from "../../../src/auth/session";

const TOKEN = "admin-token-for-session-tests";
const NOW = 1_800_000_000;

describe("dashboard session values", () => {
  it("verify until they expire, and carry nothing of the token", async () => {
    const s = await issueSession(TOKEN, NOW);
    expect(s.expires).toBe(NOW + SESSION_SECONDS);
    expect(s.value).not.toContain(TOKEN);
    expect(await verifySession(s.value, TOKEN, NOW)).toBe(s.expires);
    expect(await verifySession(s.value, TOKEN, s.expires - 1)).toBe(s.expires);
    expect(await verifySession(s.value, TOKEN, s.expires)).toBeNull();
  });

  it("are refused when signed under another admin token (rotating the token ends every session)", async () => {
    const s = await issueSession(TOKEN, NOW);
    expect(await verifySession(s.value, `${TOKEN}-rotated`, NOW)).toBeNull();
  });

  it("are refused when tampered with: a later expiry, another nonce, a changed MAC, garbage", async () => {
    const s = await issueSession(TOKEN, NOW);
    const [expires, nonce, mac] = s.value.split(".") as [string, string, string];
    // The first character of each part carries six full bits (the last one of the MAC only four).
    const flipped = `${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`;
    const otherNonce = `${nonce.startsWith("x") ? "y" : "x"}${nonce.slice(1)}`;
    // Same bytes, non-canonical spelling: the padding bits of the last character changed.
    const last = mac.charAt(mac.length - 1);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = `${mac.slice(0, -1)}${alphabet.charAt(alphabet.indexOf(last) ^ 1)}`;
    for (const forged of [
      `${Number(expires) + 3600}.${nonce}.${mac}`,
      `${expires}.${otherNonce}.${mac}`,
      `${expires}.${nonce}.${respelled}`,
      `${expires}.${nonce}.${flipped}`,
      `${expires}.${nonce}`,
      "",
      "1.2.3",
      `${expires}.${nonce}.${mac}.extra`,
      `${expires}.${nonce}.!!!`,
    ]) {
      expect(await verifySession(forged, TOKEN, NOW), forged).toBeNull();
    }
  });

  it("are refused when their expiry lies further ahead than a session lasts (a forged far-future cookie)", async () => {
    const s = await issueSession(TOKEN, NOW + 10 * SESSION_SECONDS);
    expect(await verifySession(s.value, TOKEN, NOW)).toBeNull();
  });
});

describe("the session cookie", () => {
  it("is HttpOnly, SameSite=Strict, Path=/, expiring; Secure with the __Host- prefix over https only", () => {
    const http = sessionCookie("v", 600, false);
    expect(http).toBe("tfgrpo_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=600");
    const https = sessionCookie("v", 600, true);
    expect(https).toBe("__Host-tfgrpo_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=600; Secure");
    expect(clearSessionCookie(false)).toContain("Max-Age=0");
  });

  it("is read by its exact name only", () => {
    expect(readSessionCookie("a=1; tfgrpo_session=abc.def.ghi; b=2", false)).toBe("abc.def.ghi");
    expect(readSessionCookie("xtfgrpo_session=evil", false)).toBeNull();
    expect(readSessionCookie("tfgrpo_session=plain", true)).toBeNull();
    expect(readSessionCookie(undefined, false)).toBeNull();
  });
});

describe("the CSRF rule for session-authenticated writes", () => {
  it("needs the custom header and an Origin equal to the request's", () => {
    expect(sameOriginWrite("http://127.0.0.1:8787/api/x", "http://127.0.0.1:8787", "1")).toBe(true);
    expect(sameOriginWrite("http://127.0.0.1:8787/api/x", "http://127.0.0.1:8787", undefined)).toBe(false);
    expect(sameOriginWrite("http://127.0.0.1:8787/api/x", "http://evil.example", "1")).toBe(false);
    expect(sameOriginWrite("http://127.0.0.1:8787/api/x", undefined, "1")).toBe(false);
    expect(sameOriginWrite("https://a.example/api/x", "http://a.example", "1")).toBe(false);
  });

  it("applies to every method but GET, HEAD and OPTIONS", () => {
    expect(["GET", "HEAD", "OPTIONS", "get"].map(changesState)).toEqual([false, false, false, false]);
    expect(["POST", "PATCH", "PUT", "DELETE"].map(changesState)).toEqual([true, true, true, true]);
  });
});
