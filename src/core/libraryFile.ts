import { z } from "zod";
import { scanKeys } from "./jsonKeys";
import { type Experience, type ItemCaps, itemProblem, oneLine, type Provenance, splitNamed } from "./library";

/**
 * A library version as a file, both ways (docs/ownership.md): our own format, which keeps ids, names,
 * provenance and the model the library was learned with, and the reference implementation's
 * experiences format, a JSON object mapping id → text. Pure: the routes add the agent's caps and ids.
 */

export const NATIVE_FORMAT = "tfgrpo-library";
export const NATIVE_FORMAT_VERSION = 1;
export const LIBRARY_FILE_FORMATS = ["native", "reference"] as const;
export type LibraryFileFormat = (typeof LIBRARY_FILE_FORMATS)[number];

const ITEM_ID = /^E\d+$/;
/** Longest id accepted from a reference file (its ids are short keys such as "0" or "G12"). */
const MAX_REFERENCE_ID_CHARS = 100;

const provenanceEntrySchema = z.object({
  runId: z.string().max(200).nullable(),
  epoch: z.number().int().nullable(),
  batch: z.number().int().nullable(),
  op: z.string().min(1).max(40),
  source: z.enum(["manual", "imported"]).optional(),
  author: z.string().max(200).optional(),
  reason: z.string().max(2000).optional(),
  importedId: z.string().max(MAX_REFERENCE_ID_CHARS).optional(),
});

/** Our format. Items are checked against the agent's caps after this shape check (`readLibraryFile`). */
export const nativeLibraryFileSchema = z.object({
  format: z.literal(NATIVE_FORMAT),
  formatVersion: z.literal(NATIVE_FORMAT_VERSION),
  agent: z.string().max(200).optional(),
  version: z.number().int().min(0).optional(),
  source: z.enum(["learned", "manual", "imported"]).optional(),
  author: z.string().max(200).nullable().optional(),
  model: z.string().max(200).nullable().optional(),
  note: z.string().max(4000).optional(),
  createdAt: z.string().max(64).optional(),
  items: z
    .array(
      z.object({
        id: z.string().regex(ITEM_ID, "expected an item id like E3"),
        name: z.string().max(1000),
        text: z.string().max(10_000),
        provenance: z.array(provenanceEntrySchema).max(1000).default([]),
      }),
    )
    .max(10_000),
});
export type NativeLibraryFile = z.infer<typeof nativeLibraryFileSchema>;

/** The reference implementation's experiences.json: id → text, in the order written. */
export const referenceLibraryFileSchema = z.record(z.string(), z.string());
export type ReferenceLibraryFile = z.infer<typeof referenceLibraryFileSchema>;

export type VersionMeta = {
  agent: string;
  version: number;
  source: "learned" | "manual" | "imported";
  author: string | null;
  model: string | null;
  note: string;
  createdAt: string;
};

export function toNativeFile(meta: VersionMeta, items: readonly Experience[]): NativeLibraryFile {
  return {
    format: NATIVE_FORMAT,
    formatVersion: NATIVE_FORMAT_VERSION,
    ...meta,
    items: items.map((item) => ({ id: item.id, name: item.name, text: item.text, provenance: item.provenance })),
  };
}

/**
 * Each item as the one line the reference renders after its id: "Name: text". Reading it back
 * (`splitNamed`) gives the same name and text whenever the name is short, as learned names are.
 */
export function toReferenceFile(items: readonly Experience[]): ReferenceLibraryFile {
  return Object.fromEntries(items.map((item) => [item.id, `${oneLine(item.name)}: ${oneLine(item.text)}`]));
}

/** One item read from a file: `id` is kept when it is one of ours (E<n>), else the item gets a new one. */
export type ImportedItem = { id: string | null; sourceId: string; name: string; text: string; provenance: Provenance[] };

export type ReadFile =
  | { ok: true; format: LibraryFileFormat; model: string | null; items: ImportedItem[] }
  | { ok: false; error: string; code: string };

const refuse = (error: string, code = "invalid_library_file"): ReadFile => ({ ok: false, error, code });

function firstIssue(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0];
  if (!issue) return `${prefix}: invalid`;
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  return `${prefix}${path}: ${issue.message}`;
}

/**
 * Reads an uploaded library file, refusing it with the first problem in words: not JSON, not one of
 * the two formats, a duplicate id (which `JSON.parse` alone would hide), an empty or over-long item, or
 * more items than `caps` allow. `format` "auto" tells the two apart by the native `format` marker.
 */
export function readLibraryFile(text: string, format: LibraryFileFormat | "auto", caps: ItemCaps): ReadFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return refuse(`the file is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, "invalid_json");
  }
  const scan = scanKeys(text);
  const native = typeof data === "object" && data !== null && !Array.isArray(data) && Reflect.get(data, "format") === NATIVE_FORMAT;
  const chosen = format === "auto" ? (native ? "native" : "reference") : format;
  if (scan.duplicate) {
    const what = chosen === "reference" ? `duplicate id "${scan.duplicate.key}"` : `duplicate key "${scan.duplicate.key}"`;
    return refuse(`${what} (at character ${scan.duplicate.at}); every id may appear once`, "duplicate_ids");
  }
  const read = chosen === "native" ? readNative(data) : readReference(data, scan.topKeys);
  if (!read.ok) return read;
  const seen = new Map<string, number>();
  for (const [i, item] of read.items.entries()) {
    const where = chosen === "native" ? `items[${i}] (${item.sourceId})` : `item "${item.sourceId}"`;
    const problem = itemProblem(item, caps);
    if (problem) return refuse(`${where}: ${problem}`);
    if (item.id !== null) {
      const first = seen.get(item.id);
      if (first !== undefined) return refuse(`${where}: duplicate id ${item.id} (also items[${first}])`, "duplicate_ids");
      seen.set(item.id, i);
    }
  }
  if (read.items.length === 0) return refuse("the file holds no items; a library needs at least one", "empty_library");
  if (read.items.length > caps.maxExperiences) {
    return refuse(
      `the file holds ${read.items.length} items > the agent's cap of ${caps.maxExperiences} (maxExperiences)`,
      "too_many_items",
    );
  }
  return read;
}

function readNative(data: unknown): ReadFile {
  if (typeof data !== "object" || data === null || Reflect.get(data, "format") !== NATIVE_FORMAT) {
    return refuse(`not a ${NATIVE_FORMAT} file: expected an object with "format": "${NATIVE_FORMAT}"`);
  }
  const version = Reflect.get(data, "formatVersion");
  if (version !== NATIVE_FORMAT_VERSION) {
    return refuse(`unsupported formatVersion ${JSON.stringify(version)}: this service reads ${NATIVE_FORMAT_VERSION}`);
  }
  const parsed = nativeLibraryFileSchema.safeParse(data);
  if (!parsed.success) return refuse(firstIssue(parsed.error, "file"));
  return {
    ok: true,
    format: "native",
    model: parsed.data.model ?? null,
    items: parsed.data.items.map((item) => ({
      id: item.id,
      sourceId: item.id,
      name: oneLine(item.name),
      text: oneLine(item.text),
      provenance: item.provenance,
    })),
  };
}

function readReference(data: unknown, order: readonly string[]): ReadFile {
  const parsed = referenceLibraryFileSchema.safeParse(data);
  if (!parsed.success || typeof data !== "object" || data === null || Array.isArray(data)) {
    const issue = parsed.success ? null : parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` (item "${String(issue.path[0])}" is not text)` : "";
    return refuse(
      `not a library file${where}: expected our format ("format": "${NATIVE_FORMAT}") or the reference's experiences format, an object mapping id to text`,
    );
  }
  const entries = parsed.data;
  const items: ImportedItem[] = [];
  for (const key of order) {
    const value = entries[key];
    if (value === undefined) continue;
    const id = key.trim();
    if (id === "") return refuse(`an item has an empty id`);
    if (id.length > MAX_REFERENCE_ID_CHARS)
      return refuse(`item "${id.slice(0, 20)}…": id longer than ${MAX_REFERENCE_ID_CHARS} characters`);
    items.push({ id: ITEM_ID.test(id) ? id : null, sourceId: id, ...splitNamed(value), provenance: [] });
  }
  return { ok: true, format: "reference", model: null, items };
}

/**
 * Final ids of imported items: ours (E<n>) kept unless `renumber`, every other item numbered past the
 * highest id the agent ever issued and the highest kept, so no id is reused. Each item's provenance
 * gets an entry saying who imported it and why (and its id in the file when that changed).
 */
export function assignImportedIds(
  items: readonly ImportedItem[],
  ctx: { highestEver: number; renumber: boolean; author: string; reason: string },
): Experience[] {
  const keep = (item: ImportedItem) => !ctx.renumber && item.id !== null;
  let highest = ctx.highestEver;
  for (const item of items) if (keep(item)) highest = Math.max(highest, Number((item.id as string).slice(1)));
  return items.map((item) => {
    const id = keep(item) ? (item.id as string) : `E${++highest}`;
    const entry: Provenance = {
      runId: null,
      epoch: null,
      batch: null,
      op: "IMPORT",
      source: "imported",
      author: ctx.author,
      reason: ctx.reason,
    };
    if (id !== item.sourceId) entry.importedId = item.sourceId;
    return { id, name: item.name, text: item.text, provenance: [...item.provenance, entry] };
  });
}
