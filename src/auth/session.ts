/**
 * Dashboard sessions (docs/dashboard.md §2): the admin token is exchanged once for a cookie that
 * carries an expiry and an HMAC over it, keyed by a key derived from ADMIN_TOKEN. Nothing is stored:
 * rotating ADMIN_TOKEN ends every session, and the cookie never contains the token itself.
 */

const encoder = new TextEncoder();

/** How long a session lasts after sign-in. */
export const SESSION_SECONDS = 8 * 60 * 60;

/** The cookie's name: the `__Host-` prefix (Secure, Path=/, no Domain) is only allowed over https. */
export const sessionCookieName = (https: boolean): string => (https ? "__Host-tfgrpo_session" : "tfgrpo_session");

/** Header the dashboard adds to every request that changes state (docs/dashboard.md §2). */
export const CSRF_HEADER = "x-tfgrpo-csrf";

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The signing key: an HMAC of a fixed label under the admin token, so the token itself never signs. */
async function sessionKey(adminToken: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(adminToken), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const derived = await crypto.subtle.sign("HMAC", base, encoder.encode("tfgrpo-dashboard-session-key/v1"));
  return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

const payload = (expires: number, nonce: string) => encoder.encode(`v1.${expires}.${nonce}`);

/** A new session value `expires.nonce.mac`, valid until `nowSeconds + SESSION_SECONDS`. */
export async function issueSession(adminToken: string, nowSeconds: number): Promise<{ value: string; expires: number }> {
  const expires = nowSeconds + SESSION_SECONDS;
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await sessionKey(adminToken), payload(expires, nonce)));
  return { value: `${expires}.${nonce}.${base64url(mac)}`, expires };
}

/** The session's expiry (unix seconds) when the value is authentic and unexpired, else null. */
export async function verifySession(value: string, adminToken: string, nowSeconds: number): Promise<number | null> {
  const parts = value.split(".");
  if (parts.length !== 3) return null;
  const [expiresText, nonce, macText] = parts as [string, string, string];
  if (!/^\d{1,12}$/.test(expiresText) || nonce.length === 0 || nonce.length > 64) return null;
  const expires = Number(expiresText);
  const mac = fromBase64url(macText);
  // One spelling per MAC: base64url's last character has padding bits that decoding ignores.
  if (mac?.length !== 32 || base64url(mac) !== macText) return null;
  // verify() compares in constant time.
  const ok = await crypto.subtle.verify("HMAC", await sessionKey(adminToken), mac, payload(expires, nonce));
  if (!ok || expires <= nowSeconds || expires > nowSeconds + SESSION_SECONDS) return null;
  return expires;
}

/** Set-Cookie for a session: HttpOnly, SameSite=Strict, Path=/, Secure over https, Max-Age to its expiry. */
export function sessionCookie(value: string, maxAgeSeconds: number, https: boolean): string {
  const attrs = [
    `${sessionCookieName(https)}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
  ];
  if (https) attrs.push("Secure");
  return attrs.join("; ");
}

/** Set-Cookie that removes the session cookie. */
export const clearSessionCookie = (https: boolean): string => sessionCookie("", 0, https);

/** The session cookie's value from a Cookie header, if present. */
export function readSessionCookie(cookieHeader: string | undefined, https: boolean): string | null {
  const name = sessionCookieName(https);
  for (const part of (cookieHeader ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * Whether a cookie-authenticated request may change state: it must carry the dashboard's custom header
 * (a cross-site page can only send one after a CORS preflight, which this Worker never grants) and an
 * Origin equal to the request's own (browsers send Origin on every non-GET fetch).
 */
export function sameOriginWrite(requestUrl: string, origin: string | undefined, csrfHeader: string | undefined): boolean {
  if (csrfHeader !== "1" || !origin) return false;
  return origin === new URL(requestUrl).origin;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
export const changesState = (method: string): boolean => !SAFE_METHODS.has(method.toUpperCase());
