import { envString } from "../shared/env";

/**
 * Bulky text out of D1 (docs/architecture.md §11): a text longer than the inline threshold is written to
 * the R2 bucket TEXTS and its D1 row keeps a reference (key, size, SHA-256); shorter texts stay inline.
 * Every stored text is read back through `readText`, whichever side it is on.
 *
 * Keys are `agent/{agent}/owner/{run or evaluation}/{path}/{first 16 hex of the SHA-256}`: deterministic,
 * so a retried step that stores the same text overwrites the same object, and scoped, so deleting an
 * agent, a run or an evaluation deletes one prefix. The hash in the key keeps two writers of one key with
 * different texts (a retried call whose first reply was lost) from overwriting each other: the D1 row,
 * first writer wins, then points at its own object, and the other is swept with the prefix.
 */

/** Where a text moved to R2 lives and what it must read back as. */
export type TextRef = { key: string; bytes: number; sha256: string };

/** A text as a D1 row holds it: inline (`ref` null), or in R2 (`inline` null or empty). */
export type StoredText = { inline: string | null; ref: TextRef | null };

/** Default of TEXT_INLINE_MAX_BYTES: reasoning replies (20–40 KB) go to R2, summaries and verdicts stay in D1. */
export const DEFAULT_TEXT_INLINE_MAX_BYTES = 4096;

/** Texts read or written within one step or request, by SHA-256: each is read from R2 once and written once. */
type Seen = Map<string, { text: string; ref: TextRef }>;

export type TextReader = { bucket: R2Bucket; seen: Seen };

export type TextWriter = TextReader & {
  /** Texts of at most this many UTF-8 bytes stay inline. */
  inlineMax: number;
  /** Key prefix of everything the owner stores: `agent/{agent}/owner/{owner}/`. */
  prefix: string;
};

export const agentTextPrefix = (agentId: string) => `agent/${agentId}/`;

/** The prefix under which a run or evaluation (`ownerId`) of an agent stores its texts. */
export const ownerTextPrefix = (agentId: string, ownerId: string) => `${agentTextPrefix(agentId)}owner/${ownerId}/`;

/** ownerTextPrefix as an SQL expression over two columns (for set-based deletions in src/db/lifecycle.ts). */
export const ownerTextPrefixSql = (agentColumn: string, ownerColumn: string) =>
  `'agent/' || ${agentColumn} || '/owner/' || ${ownerColumn} || '/'`;

/** TEXT_INLINE_MAX_BYTES as a byte count: a non-negative integer, else the default. */
export function textInlineMax(env: Env): number {
  const raw = envString(env, "TEXT_INLINE_MAX_BYTES");
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : DEFAULT_TEXT_INLINE_MAX_BYTES;
}

export function textReader(env: Env): TextReader {
  return { bucket: env.TEXTS, seen: new Map() };
}

export function textWriter(env: Env, owner: { agentId: string; ownerId: string }): TextWriter {
  return { ...textReader(env), inlineMax: textInlineMax(env), prefix: ownerTextPrefix(owner.agentId, owner.ownerId) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Stores a text for a D1 row: inline when small, else in R2 under `{prefix}{path}/{hash}` before the
 * caller writes the row (a crash in between leaves an object without a row, never a row without its
 * object). A text this context already holds in R2 (a rollout's reply is its call's reply) is not
 * written twice: the row refers to the same object.
 */
export async function storeText(w: TextWriter, path: string, text: string): Promise<StoredText> {
  const bytes = encoder.encode(text);
  if (bytes.length <= w.inlineMax) return { inline: text, ref: null };
  const sha256 = await sha256Hex(bytes);
  const known = w.seen.get(sha256);
  if (known) return { inline: null, ref: known.ref };
  const ref: TextRef = { key: `${w.prefix}${path}/${sha256.slice(0, 16)}`, bytes: bytes.length, sha256 };
  // R2 checks the upload against the hash: a corrupted write fails here instead of on a later read.
  await w.bucket.put(ref.key, bytes, { sha256, httpMetadata: { contentType: "text/plain; charset=utf-8" } });
  w.seen.set(sha256, { text, ref });
  return { inline: null, ref };
}

export class StoredTextError extends Error {}

/**
 * The one way a stored text is read: the inline value, or the R2 object checked against its recorded
 * size and hash. A row whose object is gone or altered is an error, never an empty text.
 */
export async function readText(r: TextReader, stored: StoredText): Promise<string | null> {
  const { ref } = stored;
  if (!ref) return stored.inline;
  const known = r.seen.get(ref.sha256);
  if (known) return known.text;
  const object = await r.bucket.get(ref.key);
  if (!object) throw new StoredTextError(`stored text ${ref.key} is missing from R2`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  if (bytes.length !== ref.bytes || (await sha256Hex(bytes)) !== ref.sha256)
    throw new StoredTextError(`stored text ${ref.key} does not match its recorded size and hash`);
  const text = decoder.decode(bytes);
  r.seen.set(ref.sha256, { text, ref });
  return text;
}

export type TextUsage = {
  objects: number;
  bytes: number;
  /** False when the listing stopped at `maxObjects` (the counts are then lower bounds). */
  complete: boolean;
};

/**
 * Objects and bytes stored in R2 under a key prefix (e.g. ownerTextPrefix of a run, agentTextPrefix),
 * listed 1,000 at a time up to `maxObjects`. Takes the bucket binding, so benchmarks and scripts that
 * hold one (getPlatformProxy) can call it as the Worker does.
 */
export async function textUsage(bucket: Pick<R2Bucket, "list">, prefix: string, maxObjects = Number.POSITIVE_INFINITY): Promise<TextUsage> {
  const usage: TextUsage = { objects: 0, bytes: 0, complete: true };
  let cursor: string | undefined;
  do {
    if (usage.objects >= maxObjects) return { ...usage, complete: false };
    const page = await bucket.list({ prefix, cursor, limit: 1000 });
    usage.objects += page.objects.length;
    for (const o of page.objects) usage.bytes += o.size;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return usage;
}

/**
 * Deletes at most `max` objects under a prefix, a page (≤ 1,000 keys, R2's limit for one delete) at a
 * time. `empty` is true when nothing is left under the prefix as far as the last listing saw.
 */
export async function deleteTexts(bucket: R2Bucket, prefix: string, max: number): Promise<{ deleted: number; empty: boolean }> {
  let deleted = 0;
  while (deleted < max) {
    const page = await bucket.list({ prefix, limit: Math.min(1000, max - deleted) });
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) await bucket.delete(keys);
    deleted += keys.length;
    if (!page.truncated) return { deleted, empty: true };
  }
  return { deleted, empty: false };
}
