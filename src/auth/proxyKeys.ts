import { randomToken } from "../shared/ids";
import { sha256Hex } from "./crypto";

/** Proxy keys look like `tfg_<32 hex>` (128 random bits); only their SHA-256 is stored. */
export const KEY_PREFIX = "tfg_";
const KEY_FORMAT = /^tfg_[0-9a-f]{32}$/;

/** True only for a string shaped exactly like a key we mint; anything else is refused before D1. */
export function isProxyKeyFormat(token: string): boolean {
  return token.length === KEY_PREFIX.length + 32 && KEY_FORMAT.test(token);
}

export async function mintProxyKey(): Promise<{ key: string; prefix: string; hash: string }> {
  const key = `${KEY_PREFIX}${randomToken(16)}`;
  return { key, prefix: key.slice(0, KEY_PREFIX.length + 6), hash: await sha256Hex(key) };
}

/**
 * Hashes of recently presented keys, so a busy key is not re-hashed on every request. The isolate
 * already holds each key in the request that carries it; this keeps at most HASH_CACHE_SIZE of them,
 * forgetting the oldest first. Only keys that look like ours are ever hashed (see proxyAuth).
 */
const HASH_CACHE_SIZE = 1024;
const hashes = new Map<string, string>();

export async function hashProxyKey(key: string): Promise<string> {
  const cached = hashes.get(key);
  if (cached !== undefined) return cached;
  const hash = await sha256Hex(key);
  if (hashes.size >= HASH_CACHE_SIZE) {
    const oldest = hashes.keys().next();
    if (!oldest.done) hashes.delete(oldest.value);
  }
  hashes.set(key, hash);
  return hash;
}
