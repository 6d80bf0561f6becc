/** Random ids and tokens, and hex formatting: used by storage, auth and request ids alike. */

/** Two hex digits per byte value: formatting is on every request's path (ids, key hashes). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b];
  return s;
}

/**
 * Random bytes are drawn from a pool filled 4 KiB at a time: a request id needs 12 bytes, and one
 * `getRandomValues` call per request costs more than the bytes themselves.
 */
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

export function randomToken(bytes: number): string {
  if (bytes > POOL_BYTES) return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
  if (poolAt + bytes > POOL_BYTES) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const out = toHex(pool.subarray(poolAt, poolAt + bytes));
  // Each byte is handed out once.
  poolAt += bytes;
  return out;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomToken(10)}`;
}
