import { randomToken, sha256Hex } from "./crypto";

/** Proxy keys look like `tfg_<32 hex>` (128 random bits); only their SHA-256 is stored. */
export const KEY_PREFIX = "tfg_";

export async function mintProxyKey(): Promise<{ key: string; prefix: string; hash: string }> {
  const key = `${KEY_PREFIX}${randomToken(16)}`;
  return { key, prefix: key.slice(0, KEY_PREFIX.length + 6), hash: await sha256Hex(key) };
}

export const hashProxyKey = (key: string) => sha256Hex(key);
