/**
 * Which upstream base URLs an agent may use (docs/security.md, "Upstream URLs"): https only, no
 * credentials in the URL, no IP literal in a private, loopback, link-local or otherwise non-public
 * range. Plain http and loopback hosts are allowed only for local development. `sim://local` (the
 * in-process simulated model) is always allowed. Redirects are never followed (upstream.ts).
 */

export const SIM_BASE_URL = "sim://local";

export function isSimulated(baseUrl: string): boolean {
  return baseUrl === SIM_BASE_URL || baseUrl.startsWith(`${SIM_BASE_URL}?`);
}

type Range = "public" | "loopback" | "private";

function ipv4Range(host: string): Range | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (!m) return null;
  const [a, b] = [Number(m[1]), Number(m[2])];
  if (a === 127) return "loopback";
  if (a === 0 || a === 10 || a >= 224) return "private";
  if (a === 169 && b === 254) return "private";
  if (a === 172 && b >= 16 && b <= 31) return "private";
  if (a === 192 && b === 168) return "private";
  if (a === 100 && b >= 64 && b <= 127) return "private";
  if (a === 192 && b === 0 && Number(m[3]) === 0) return "private";
  if (a === 198 && (b === 18 || b === 19)) return "private";
  return "public";
}

/** `host` as the URL parser gives it: bracketed and normalised (`[::ffff:7f00:1]`). */
function ipv6Range(host: string): Range | null {
  if (!host.startsWith("[")) return null;
  const ip = host.slice(1, -1).toLowerCase();
  if (ip === "::1") return "loopback";
  if (ip === "::") return "private";
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (mapped) {
    const hi = Number.parseInt(mapped[1] ?? "0", 16);
    const lo = Number.parseInt(mapped[2] ?? "0", 16);
    return ipv4Range(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (ip.startsWith("::ffff:")) return "private";
  const first = Number.parseInt(ip.split(":")[0] || "0", 16);
  if ((first & 0xfe00) === 0xfc00) return "private"; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return "private"; // fe80::/10 link-local
  if ((first & 0xff00) === 0xff00) return "private"; // multicast
  return "public";
}

function hostRange(hostname: string): Range {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  return ipv4Range(host) ?? ipv6Range(host) ?? "public";
}

/** Why `url` may not be an upstream base URL (null: it may). */
export function upstreamUrlProblem(url: string, localDevelopment: boolean): string | null {
  if (isSimulated(url)) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "must be an https URL or sim://local";
  }
  const local = " (allowed only for local development, LOCAL_DEVELOPMENT=1)";
  if (u.protocol !== "https:" && u.protocol !== "http:") return "must be an https URL or sim://local";
  if (u.protocol === "http:" && !localDevelopment) return `must use https; plain http${local}`;
  if (u.username !== "" || u.password !== "") return "must not contain credentials; use apiKey or apiKeySecret";
  const range = hostRange(u.hostname);
  if (range === "private") return `must not point at a private, link-local or reserved address (${u.hostname})`;
  if (range === "loopback" && !localDevelopment) return `must not point at a loopback host (${u.hostname})${local}`;
  return null;
}

/** The origin secrets are bound to: a key set for one origin is never sent to another. */
export function upstreamOrigin(url: string): string {
  if (isSimulated(url)) return SIM_BASE_URL;
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
