/**
 * The pure half of a data-set upload: splitting text into rows (JSONL lines or the items of a JSON
 * array), validating each row, collecting every problem, and packing valid rows into insert chunks.
 * No I/O: callers feed decoded text in pieces and decide what to do with the chunks.
 *
 * Sample ids: a row's `id` (string, or number turned into a string) is kept; a row without one gets
 * its 1-based position among the rows of the upload (`"1"`, `"2"`, …; blank JSONL lines are not rows),
 * which for a file without blank lines is its line number. Ids must be unique within an upload,
 * whether given or generated.
 */
import { z } from "zod";

/** Data-set names: the same rule as agent names. */
export const DATASET_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const DATASET_NAME_RULE = "lowercase letters, digits, '-' and '_', 1-63 characters, starting with a letter or digit";
/** Largest accepted upload body, in bytes. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Largest stored row (D1 allows 2 MB per row and per bound value; a chunk of one row must fit). */
export const MAX_ROW_BYTES = 1_000_000;
/** A line or array item longer than this (in UTF-16 units) is rejected without being buffered further. */
export const MAX_LINE_CHARS = 4 * MAX_ROW_BYTES;
export const MAX_ID_CHARS = 256;
/** Problems listed in an error message; the total is always given. */
export const MAX_LISTED_ISSUES = 20;
/** Target size of one insert chunk (one statement, one bound JSON value), in UTF-8 bytes. */
export const CHUNK_BYTES = 1_000_000;

export type UploadFormat = "jsonl" | "json";

/** One piece of text that should hold one row; `line` is where it starts (1-based). */
export type RawRow = { line: number; text: string; tooLong?: true };

/** A validated row, ready to store. `idx` is its 0-based position in the upload. */
export type SampleRow = { idx: number; sampleId: string; question: string; answer: string; extras: Record<string, unknown> | null };

/** A row in the form it travels to the database (see encodeRow), with its UTF-8 size. */
export type EncodedRow = { text: string; bytes: number };

export type RowIssue = { line: number; reason: string; kind: "invalid" | "duplicate" };

/** A problem with the upload as a whole (not one row): the body cannot be split into rows. */
export class MalformedBody extends Error {}

const nonBlank = (what: string) => z.string().refine((s) => s.trim().length > 0, `${what} must not be empty`);

export const rowSchema = z.looseObject({
  id: z
    .union(
      [z.string().min(1, "id must not be empty").max(MAX_ID_CHARS, `id must be at most ${MAX_ID_CHARS} characters`), z.number().finite()],
      {
        error: "id must be a string or a number",
      },
    )
    .optional(),
  question: nonBlank("question"),
  // Optional: unlabelled samples train only in no-ground-truth mode (docs/learning.md); startRun checks.
  answer: z.union([nonBlank("answer"), z.number().finite()], { error: "answer must be a string or a number" }).optional(),
});

/** UTF-8 length of a string without allocating (lone surrogates count as the 3 bytes of U+FFFD). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII, control characters included
const NON_ASCII = /[^\x00-\x7f]/;

export function utf8Length(s: string): number {
  let n = s.length;
  if (!NON_ASCII.test(s)) return n;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else n += 2;
  }
  return n;
}

/** Splits JSONL text, fed in arbitrary pieces, into non-blank lines with their 1-based line numbers. */
export class LineSplitter {
  private partial = "";
  private partialTooLong = false;
  private line = 1;
  private first = true;

  push(text: string): RawRow[] {
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const out: RawRow[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) break;
      this.emit(out, text.slice(start, nl));
      start = nl + 1;
    }
    this.append(text.slice(start));
    return out;
  }

  finish(): RawRow[] {
    const out: RawRow[] = [];
    if (this.partial.length > 0 || this.partialTooLong) this.emit(out, "");
    return out;
  }

  private append(piece: string) {
    if (this.partialTooLong) return;
    if (this.partial.length + piece.length > MAX_LINE_CHARS) {
      this.partial = "";
      this.partialTooLong = true;
    } else this.partial += piece;
  }

  private emit(out: RawRow[], tail: string) {
    const line = this.line++;
    this.append(tail);
    if (this.partialTooLong) out.push({ line, text: "", tooLong: true });
    else {
      const text = this.partial.endsWith("\r") ? this.partial.slice(0, -1) : this.partial;
      if (text.trim().length > 0) out.push({ line, text });
    }
    this.partial = "";
    this.partialTooLong = false;
  }
}

const STRING_SPECIAL = /["\\]/g;
const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Splits a JSON array, fed in arbitrary pieces, into the source text of its items without parsing
 * them, so a large array never has to be held whole; each item is parsed on its own later.
 * Throws MalformedBody when the text is not one top-level array.
 */
export class JsonArraySplitter {
  private state: "before" | "between" | "item" | "after" = "before";
  private depth = 0; // bracket nesting inside the current item
  private inString = false;
  private escaped = false;
  private sawItem = false;
  private item = "";
  private itemTooLong = false;
  private itemLine = 0;
  private line = 1;
  private first = true;

  push(text: string): RawRow[] {
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const out: RawRow[] = [];
    let itemStart = this.state === "item" ? 0 : -1; // where the current item's text starts in `text`
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.state === "item") {
        if (this.inString) {
          if (this.escaped) {
            this.escaped = false;
            continue;
          }
          // Jump to the next quote or backslash: nothing in between changes the state.
          STRING_SPECIAL.lastIndex = i;
          const m = STRING_SPECIAL.exec(text);
          if (!m) break;
          i = m.index;
          if (text.charCodeAt(i) === 0x5c /* \ */) this.escaped = true;
          else this.inString = false;
          continue;
        }
        if (c === 0x22 /* " */) this.inString = true;
        else if (c === 0x7b /* { */ || c === 0x5b /* [ */) this.depth++;
        else if (c === 0x7d /* } */ && this.depth > 0) this.depth--;
        else if (c === 0x5d /* ] */) {
          if (this.depth > 0) this.depth--;
          else {
            this.endItem(out, text.slice(itemStart, i));
            this.state = "after";
          }
        } else if (c === 0x2c /* , */ && this.depth === 0) {
          this.endItem(out, text.slice(itemStart, i));
          this.state = "between";
        }
        if (c === 0x0a) this.line++;
        continue;
      }
      if (isWs(c)) {
        if (c === 0x0a) this.line++;
        continue;
      }
      if (this.state === "before") {
        if (c !== 0x5b) throw new MalformedBody(`expected a JSON array ('[') at line ${this.line}`);
        this.state = "between";
      } else if (this.state === "after") {
        throw new MalformedBody(`unexpected text after the array's closing ']' at line ${this.line}`);
      } else if (c === 0x5d) {
        if (this.sawItem) throw new MalformedBody(`a ',' is followed by ']' at line ${this.line}`);
        this.state = "after";
      } else if (c === 0x2c) {
        throw new MalformedBody(`missing item before ',' at line ${this.line}`);
      } else {
        this.state = "item";
        this.sawItem = true;
        this.itemLine = this.line;
        itemStart = i;
        i--; // read this character again as the item's first
      }
    }
    if (this.state === "item") this.appendItem(text.slice(itemStart));
    return out;
  }

  finish(): RawRow[] {
    if (this.state === "before") return []; // an empty body: no rows, like an empty array
    if (this.state !== "after") throw new MalformedBody("unexpected end of the body: the JSON array is not closed");
    return [];
  }

  private appendItem(piece: string) {
    if (this.itemTooLong) return;
    if (this.item.length + piece.length > MAX_LINE_CHARS) {
      this.item = "";
      this.itemTooLong = true;
    } else this.item += piece;
  }

  private endItem(out: RawRow[], tail: string) {
    this.appendItem(tail);
    out.push(this.itemTooLong ? { line: this.itemLine, text: "", tooLong: true } : { line: this.itemLine, text: this.item.trim() });
    this.item = "";
    this.itemTooLong = false;
  }
}

export function newSplitter(format: UploadFormat): LineSplitter | JsonArraySplitter {
  return format === "jsonl" ? new LineSplitter() : new JsonArraySplitter();
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? String(issue.path.join(".")) : "row";
  // Messages from nonBlank/union already name the field.
  if (issue.message.startsWith(field)) return issue.message;
  if (issue.code === "invalid_type" && issue.path.length === 1 && issue.input === undefined) return `${field} is required`;
  return `${field}: ${issue.message}`;
}

/**
 * Validates rows one by one, numbering them and checking id uniqueness. Every problem is recorded;
 * `accept` returns a valid row with its encoded form, or null.
 */
export class RowValidator {
  readonly issues: RowIssue[] = [];
  issueCount = 0;
  duplicateCount = 0;
  rowCount = 0;
  private readonly seen = new Map<string, number>();

  accept(raw: RawRow): { row: SampleRow; encoded: EncodedRow } | null {
    const idx = this.rowCount++;
    if (raw.tooLong) return this.fail(raw.line, `row is longer than ${MAX_LINE_CHARS} characters`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.text);
    } catch (e) {
      return this.fail(raw.line, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return this.fail(raw.line, "row must be a JSON object");
    const result = rowSchema.safeParse(parsed);
    if (!result.success) return this.fail(raw.line, result.error.issues.map(describeZodIssue).join(", "));
    const { id, question, answer, ...rest } = result.data;
    const sampleId = id === undefined ? String(idx + 1) : String(id);
    const firstLine = this.seen.get(sampleId);
    if (firstLine !== undefined) {
      this.duplicateCount++;
      const how = id === undefined ? " (generated from its position)" : "";
      return this.fail(raw.line, `duplicate id '${sampleId}'${how}, first used on line ${firstLine}`, "duplicate");
    }
    this.seen.set(sampleId, raw.line);
    const row: SampleRow = {
      idx,
      sampleId,
      question,
      answer: answer === undefined ? "" : String(answer),
      extras: Object.keys(rest).length ? rest : null,
    };
    const encoded = encodeRow(row);
    if (encoded.bytes > MAX_ROW_BYTES) return this.fail(raw.line, `row is ${encoded.bytes} bytes stored; the limit is ${MAX_ROW_BYTES}`);
    return { row, encoded };
  }

  get ok(): boolean {
    return this.issueCount === 0;
  }

  private fail(line: number, reason: string, kind: RowIssue["kind"] = "invalid"): null {
    this.issueCount++;
    if (this.issues.length < MAX_LISTED_ISSUES) this.issues.push({ line, reason, kind });
    return null;
  }
}

/** One line of the error message for a rejected upload: the total, then the first problems. */
export function describeRowIssues(v: Pick<RowValidator, "issues" | "issueCount" | "duplicateCount">, format: UploadFormat): string {
  const unit = format === "jsonl" ? "line" : "item at line";
  const head =
    v.duplicateCount === v.issueCount
      ? `${v.issueCount} duplicate id${v.issueCount === 1 ? "" : "s"}`
      : `${v.issueCount} invalid row${v.issueCount === 1 ? "" : "s"}${v.duplicateCount ? ` (${v.duplicateCount} with duplicate ids)` : ""}`;
  const listed = v.issues.map((i) => `${unit} ${i.line}: ${i.reason}`).join("; ");
  const more = v.issueCount > v.issues.length ? `; … and ${v.issueCount - v.issues.length} more` : "";
  return `upload rejected, nothing was stored: ${head}${v.issues.length < v.issueCount ? `, first ${v.issues.length}` : ""}: ${listed}${more}`;
}

/** The form a row travels in to the database: a JSON array `[idx, sampleId, question, answer, extras]` read back with json_extract. */
export function encodeRow(r: SampleRow): EncodedRow {
  const text = JSON.stringify([r.idx, r.sampleId, r.question, r.answer, r.extras]);
  return { text, bytes: utf8Length(text) };
}

/**
 * Packs rows into chunks of at most CHUNK_BYTES (UTF-8) of JSON each; a chunk becomes one INSERT
 * with a single bound value, far below D1's 100-parameter and 2 MB-per-value limits.
 */
export class RowChunker {
  private parts: string[] = [];
  private bytes = 2;
  rows = 0;

  constructor(private readonly limit = CHUNK_BYTES) {}

  /** Adds a row; returns a finished chunk (a JSON array text) when this row would not fit. */
  add(row: EncodedRow): string | null {
    const size = row.bytes + 1;
    let done: string | null = null;
    if (this.parts.length > 0 && this.bytes + size > this.limit) done = this.flush();
    this.parts.push(row.text);
    this.bytes += size;
    this.rows++;
    return done;
  }

  /** The pending chunk, if any. */
  flush(): string | null {
    if (this.parts.length === 0) return null;
    const out = `[${this.parts.join(",")}]`;
    this.parts = [];
    this.bytes = 2;
    return out;
  }
}
