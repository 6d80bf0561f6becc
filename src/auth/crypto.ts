/** WebCrypto helpers: AES-GCM for secrets at rest, SHA-256 for key hashes, constant-time compare. */

import { toHex } from "../shared/ids";

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}

/** Compares digests rather than the strings so timing reveals neither content nor length. */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/**
 * Secrets at rest (docs/security.md, "Encryption key"). A sealed secret reads
 * `v1.<key id>.<base64(iv || ciphertext)>`: AES-256-GCM under a key derived from ENCRYPTION_KEY, with
 * the owner's id (the agent id) as associated data, so a ciphertext copied onto another agent does not
 * decrypt. The key id names which ENCRYPTION_KEY sealed it, so a rotation can tell old from new.
 * Secrets sealed before versioning (bare base64, key = SHA-256 of the secret string, no associated
 * data) still open with the key that sealed them, and are re-sealed by the rotation.
 */
const SEALED_PREFIX = "v1.";
export const MIN_KEY_BYTES = 32;

export type SealingKey = { id: string; aes: CryptoKey; legacy: CryptoKey };

/** Why a value cannot be an encryption key (null: it can): at least 32 random bytes, base64 or hex. */
export function encryptionKeyProblem(value: string): string | null {
  const bytes = decodeKeyBytes(value);
  if (!bytes) return "it is not base64 or hex (generate one with: openssl rand -base64 32)";
  if (bytes.length < MIN_KEY_BYTES)
    return `it decodes to ${bytes.length} bytes; at least ${MIN_KEY_BYTES} random bytes are required (openssl rand -base64 32)`;
  // 32 random bytes take about 30 distinct values; a repeated or patterned filler takes few.
  if (new Set(bytes).size < 16) return "its bytes are not random (generate one with: openssl rand -base64 32)";
  return null;
}

function decodeKeyBytes(value: string): Uint8Array | null {
  const text = value.trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 && text.length >= 2 * MIN_KEY_BYTES) {
    return Uint8Array.from(text.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  try {
    return fromBase64(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
}

/** A key usable to seal and open; `value` must pass `encryptionKeyProblem` (the caller checks). */
export async function sealingKey(value: string): Promise<SealingKey> {
  const bytes = decodeKeyBytes(value);
  if (!bytes || bytes.length < MIN_KEY_BYTES) throw new Error("not a valid encryption key");
  const base = await crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey", "deriveBits"]);
  const hkdf = (info: string) => ({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(info) });
  const aes = await crypto.subtle.deriveKey(hkdf("tfgrpo sealed secrets v1"), base, { name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const id = toHex(new Uint8Array(await crypto.subtle.deriveBits(hkdf("tfgrpo key id"), base, 32)));
  return { id, aes, legacy: await legacyKey(value) };
}

/** How secrets were sealed before versioning: any string, stretched by SHA-256. Only ever opens. */
export async function legacyKey(secret: string): Promise<CryptoKey> {
  const material = await crypto.subtle.digest("SHA-256", encoder.encode(secret));
  return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["decrypt"]);
}

const associatedData = (ownerId: string) => encoder.encode(`tfgrpo:${ownerId}`);

export async function sealSecret(plaintext: string, ownerId: string, key: SealingKey): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cipher = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: associatedData(ownerId) },
    key.aes,
    encoder.encode(plaintext),
  );
  const out = new Uint8Array(iv.length + cipher.byteLength);
  out.set(iv, 0);
  out.set(new Uint8Array(cipher), iv.length);
  return `${SEALED_PREFIX}${key.id}.${toBase64(out)}`;
}

/** The key id a sealed secret names; null for a secret sealed before versioning. */
export function sealedKeyId(sealed: string): string | null {
  return sealed.startsWith(SEALED_PREFIX) ? (sealed.split(".")[1] ?? "") : null;
}

/**
 * Opens a sealed secret with whichever of `keys` sealed it; throws when none did, or when the secret
 * was sealed for another owner. A legacy secret is tried with each key's legacy form.
 */
export async function openSecret(
  sealed: string,
  ownerId: string,
  keys: readonly SealingKey[],
  legacySecrets: readonly CryptoKey[] = [],
): Promise<string> {
  const id = sealedKeyId(sealed);
  if (id !== null) {
    const key = keys.find((k) => k.id === id);
    if (!key) throw new Error(`sealed with key ${id}, which is not configured`);
    const bytes = fromBase64(sealed.slice(SEALED_PREFIX.length + id.length + 1));
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: associatedData(ownerId) },
      key.aes,
      bytes.slice(12),
    );
    return new TextDecoder().decode(plain);
  }
  const bytes = fromBase64(sealed);
  for (const legacy of [...keys.map((k) => k.legacy), ...legacySecrets]) {
    try {
      return new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, legacy, bytes.slice(12)));
    } catch {
      // not this key
    }
  }
  throw new Error("sealed before key versioning with a key that is not configured");
}
