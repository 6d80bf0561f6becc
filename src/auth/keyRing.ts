import { envString } from "../shared/env";
import { encryptionKeyProblem, legacyKey, openSecret, sealedKeyId, sealingKey, sealSecret, type SealingKey } from "./crypto";

/**
 * The Worker's encryption keys (docs/security.md, "Encryption key"): ENCRYPTION_KEY seals every new
 * secret; ENCRYPTION_KEY_PREVIOUS, set only while rotating, still opens what the old key sealed (it may
 * be a pre-versioning string such as the old example's, so that those secrets can be moved off it).
 */
export type KeyRing = { current: SealingKey; previous: SealingKey | null; legacy: CryptoKey[] };

let checked: { value: string | undefined; problem: string | null } | undefined;

/**
 * ENCRYPTION_KEY is set but unusable: the Worker refuses every request until it is fixed (app.ts).
 * Remembered per isolate, since it is asked on every request.
 */
export function encryptionConfigProblem(env: Env): string | null {
  const value = envString(env, "ENCRYPTION_KEY");
  if (checked !== undefined && checked.value === value) return checked.problem;
  const problem = value === undefined ? null : encryptionKeyProblem(value);
  const message = problem ? `ENCRYPTION_KEY is not usable: ${problem}. See docs/security.md.` : null;
  checked = { value, problem: message };
  return message;
}

let cached: { current: string; previous: string | undefined; ring: Promise<KeyRing> } | undefined;

/** The configured keys (made once per isolate); null when ENCRYPTION_KEY is not set. */
export async function keyRing(env: Env): Promise<KeyRing | null> {
  const current = envString(env, "ENCRYPTION_KEY");
  if (current === undefined) return null;
  const problem = encryptionConfigProblem(env);
  if (problem) throw new Error(problem);
  const previous = envString(env, "ENCRYPTION_KEY_PREVIOUS");
  if (cached?.current !== current || cached.previous !== previous) {
    cached = { current, previous, ring: buildRing(current, previous) };
  }
  return cached.ring;
}

async function buildRing(current: string, previous: string | undefined): Promise<KeyRing> {
  const usable = previous !== undefined && encryptionKeyProblem(previous) === null;
  return {
    current: await sealingKey(current),
    previous: usable ? await sealingKey(previous) : null,
    legacy: previous !== undefined && !usable ? [await legacyKey(previous)] : [],
  };
}

export function sealWithRing(plaintext: string, ownerId: string, ring: KeyRing): Promise<string> {
  return sealSecret(plaintext, ownerId, ring.current);
}

export function openWithRing(sealed: string, ownerId: string, ring: KeyRing): Promise<string> {
  return openSecret(sealed, ownerId, ring.previous ? [ring.current, ring.previous] : [ring.current], ring.legacy);
}

/** True when the secret is sealed with the current key in the current format. */
export function isCurrent(sealed: string, ring: KeyRing): boolean {
  return sealedKeyId(sealed) === ring.current.id;
}
