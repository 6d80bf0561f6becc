import { operationSchema, type Operation } from "./operations";
import { err, ok, type Result } from "./result";
import { MAX_NAME_CHARS, MAX_TEXT_CHARS, oneLine, wordCount } from "./library";

/**
 * Tolerant readers of the stage replies asked for in prompts.ts. Models wrap answers in code fences
 * and prose, change tag case, use smart quotes and leave trailing commas; all of that is accepted.
 * What cannot be read is an error with a reason, so the caller can retry and record what was dropped
 * (the official code crashed or silently dropped the group instead).
 */

const MIN_SUMMARY_CHARS = 10;
const MAX_NAME_WORDS = 8;
const DERIVED_NAME_WORDS = 5;

/** Removes one fence wrapping the whole reply (```lang … ```), keeping the inside. */
function unfence(text: string): string {
  const trimmed = text.trim();
  const match = /^```[^\n]*\n([\s\S]*?)\n?```$/.exec(trimmed);
  return match ? (match[1] ?? "").trim() : trimmed;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

// ---------------------------------------------------------------- summary

export function parseSummary(text: string): Result<string> {
  const open = /<summary\b[^>]*>/i.exec(text);
  let body: string;
  if (open) {
    const rest = text.slice(open.index + open[0].length);
    const close = /<\/summary\s*>/i.exec(rest);
    // A reply cut off before the closing tag still carries a usable summary.
    body = close ? rest.slice(0, close.index) : rest;
  } else {
    body = text;
  }
  const summary = unfence(body).trim();
  if (summary === "") return err("summary is empty");
  if (summary.length < MIN_SUMMARY_CHARS) return err(`summary is too short (${summary.length} characters): "${summary}"`);
  return ok(summary);
}

// ---------------------------------------------------------------- experiences

export type ProposedExperience = { name: string; text: string };

/** Blocks <experiences>…</experiences>; an unclosed block runs to the end of the reply. */
function experienceBlocks(text: string): string[] {
  const blocks: string[] = [];
  const open = /<experiences\b[^>]*>/gi;
  for (let match = open.exec(text); match !== null; match = open.exec(text)) {
    const start = match.index + match[0].length;
    const rest = text.slice(start);
    const close = /<\/experiences\s*>/i.exec(rest);
    blocks.push(close ? rest.slice(0, close.index) : rest);
    open.lastIndex = start + (close ? close.index : rest.length);
  }
  return blocks;
}

function nameAttribute(attrs: string): string | undefined {
  const normal = attrs.replace(/[“”„]/g, '"');
  const patterns = [/name\s*=\s*"([^"]*)"/i, /name\s*=\s*'([^']*)'/i, /name\s*=\s*[‘’]([^‘’]*)[‘’]/i, /name\s*=\s*([^\s"'>]+)/i];
  for (const p of patterns) {
    const m = p.exec(normal);
    if (m) return collapse(m[1] ?? "");
  }
  return undefined;
}

/** A short name from the first words, for items the model left unnamed. */
function deriveName(text: string): string {
  const words = collapse(text.replace(/[*_`]/g, "")).split(" ").slice(0, DERIVED_NAME_WORDS);
  return words.join(" ").replace(/[.,;:!?]+$/, "");
}

/** Strips markdown emphasis and wrapping quotes that models add around names and sentences. */
function clean(text: string): string {
  return collapse(text.replace(/\*\*|__/g, ""))
    .replace(/^["“'‘](.*)["”'’]$/, "$1")
    .trim();
}

function taggedItems(text: string): { name: string | undefined; text: string }[] {
  const items: { name: string | undefined; text: string }[] = [];
  // Items end at their closing tag, or (when it is missing) at the next item or the block's end.
  const re = /<experience\b([^>]*)>([\s\S]*?)(?=<\/experience\s*>|<experience\b|<\/experiences\s*>|$)/gi;
  for (let match = re.exec(text); match !== null; match = re.exec(text)) {
    items.push({ name: nameAttribute(match[1] ?? ""), text: clean(match[2] ?? "") });
    if (match[0].length === 0) re.lastIndex++;
  }
  return items;
}

/** Fallback: "1. Name: text" (or bullet) lines inside an <experiences> block. */
function listedItems(block: string): { name: string | undefined; text: string }[] {
  const items: { name: string | undefined; text: string }[] = [];
  for (const line of block.split("\n")) {
    const m = /^\s*(?:\d+[.)]|[-*•])\s+(.+)$/.exec(line);
    if (!m) continue;
    const body = (m[1] ?? "").replace(/\*\*/g, "");
    const colon = body.indexOf(":");
    const head = colon > 0 ? body.slice(0, colon).trim() : "";
    // Only a short head counts as a name, so "When x happens: do y" is not split into a name.
    if (head !== "" && wordCount(head) <= MAX_NAME_WORDS && !/^when\b/i.test(head)) {
      items.push({ name: clean(head), text: clean(body.slice(colon + 1)) });
    } else {
      items.push({ name: undefined, text: clean(body) });
    }
  }
  return items;
}

/** A block with no items counts as "no experiences" only if it is essentially empty ("None."). */
function isEmptyBlock(block: string): boolean {
  const stripped = block.replace(/<[^>]*>/g, " ").trim();
  return stripped === "" || /^[([]?\s*(none|n\/a|nothing|no (new )?experiences?)\b[^.]*[.)\]]?\s*$/i.test(stripped);
}

export function parseExperiences(text: string, opts: { max: number; maxWords: number }): Result<ProposedExperience[]> {
  const blocks = experienceBlocks(text);
  let raw: { name: string | undefined; text: string }[] = [];
  if (blocks.length > 0) {
    // The last block with items wins: earlier ones tend to be the format echoed back in the analysis.
    for (const block of [...blocks].reverse()) {
      const found = taggedItems(block);
      raw = found.length > 0 ? found : listedItems(block);
      if (raw.length > 0) break;
    }
    if (raw.length === 0) {
      if (blocks.every(isEmptyBlock)) return ok([]);
      return err("the <experiences> block has content but no <experience> items or numbered lines");
    }
  } else {
    raw = taggedItems(text);
    if (raw.length === 0) return err("no <experiences> block and no <experience> items found");
  }

  if (raw.length > opts.max) return err(`asked for at most ${opts.max} experience(s), got ${raw.length}`);
  const out: ProposedExperience[] = [];
  for (const [i, { name: rawName, text: rawText }] of raw.entries()) {
    const item = { name: rawName === undefined ? undefined : oneLine(rawName), text: oneLine(rawText) };
    if (item.text === "") return err(`experience ${i + 1}${item.name ? ` "${item.name}"` : ""} has no text`);
    const name = item.name && item.name !== "" ? item.name : deriveName(item.text);
    if (name.length > MAX_NAME_CHARS) return err(`experience ${i + 1} name has ${name.length} characters > ${MAX_NAME_CHARS}`);
    if (item.text.length > MAX_TEXT_CHARS)
      return err(`experience ${i + 1} "${name}" has ${item.text.length} characters > ${MAX_TEXT_CHARS}`);
    const nameWords = wordCount(name);
    if (nameWords > MAX_NAME_WORDS) return err(`experience ${i + 1} name "${name}" has ${nameWords} words > ${MAX_NAME_WORDS}`);
    const words = wordCount(item.text);
    if (words > opts.maxWords) return err(`experience ${i + 1} "${name}" has ${words} words > ${opts.maxWords}`);
    out.push({ name, text: item.text });
  }
  return ok(out);
}

// ---------------------------------------------------------------- JSON and operations

/** Removes commas before a closing bracket, outside strings. */
function stripTrailingCommas(json: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i] as string;
    if (inString) {
      out += c;
      if (c === "\\") out += json[++i] ?? "";
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (c === ",") {
      const next = /^\s*([}\]])/.exec(json.slice(i + 1));
      if (next) continue;
    }
    out += c;
  }
  return out;
}

/** The balanced {...} or [...] starting at `start` (string-aware), or undefined if it never closes. */
function balancedAt(text: string, start: number): string | undefined {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") stack.push("}");
    else if (c === "[") stack.push("]");
    else if (c === "}" || c === "]") {
      if (stack.pop() !== c) return undefined;
      if (stack.length === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

function tryParse(candidate: string): { value: unknown } | undefined {
  for (const attempt of [candidate, stripTrailingCommas(candidate)]) {
    try {
      return { value: JSON.parse(attempt) as unknown };
    } catch {
      // try the next repair
    }
  }
  return undefined;
}

/**
 * The first (hence outermost) balanced JSON value in a reply, looking inside code fences first.
 * Smart quotes are only normalised as a last resort, since they may be legitimate inside strings.
 */
export function extractJson(text: string): Result<unknown> {
  const fenced = [...text.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  const sources = [...fenced, text];
  for (const source of [...sources, ...sources.map((s) => s.replace(/[“”„]/g, '"'))]) {
    for (let i = 0; i < source.length; i++) {
      const c = source[i];
      if (c !== "{" && c !== "[") continue;
      const candidate = balancedAt(source, i);
      if (candidate === undefined) {
        // A JSON-looking value that never closes was cut off: parsing an inner object would
        // silently drop the rest, so refuse (a stray "{" in prose is just skipped).
        if (/^[{[]\s*["{[]/.test(source.slice(i))) return err("the JSON in the reply is truncated or unbalanced");
        continue;
      }
      const parsed = tryParse(candidate);
      if (parsed) return ok(parsed.value);
      // Outermost only: never fall back to a fragment inside a broken value (e.g. one op of many).
      i += candidate.length - 1;
    }
  }
  return err("no valid JSON object or array found in the reply");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Finds the operations list: {"operations": [...]}, a bare array, a single op, or an object's only array. */
function operationsList(value: unknown): Result<unknown[]> {
  if (Array.isArray(value)) return ok(value);
  if (!isRecord(value)) return err("the JSON is neither an object nor an array");
  const key = Object.keys(value).find((k) => k.toLowerCase() === "operations");
  if (key !== undefined) {
    const list = value[key];
    return Array.isArray(list) ? ok(list) : err(`"operations" is not an array`);
  }
  if ("op" in value) return ok([value]);
  const arrays = Object.values(value).filter(Array.isArray);
  if (arrays.length === 1 && arrays[0]) return ok(arrays[0]);
  return err(`expected {"operations": [...]} or an array of operations`);
}

const OP_KINDS = ["ADD", "UPDATE", "DELETE", "NONE"] as const;

/** Fixes the harmless deviations: op case and aliases, ids as numbers or "[e3]", nulls for absent fields. */
function normaliseOperation(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== null) out[k.toLowerCase()] = v;
  const op = out.op ?? out.operation ?? out.action ?? out.type;
  if (typeof op === "string") out.op = op.trim().toUpperCase();
  const id = out.id;
  if (typeof id === "number" && Number.isInteger(id)) out.id = `E${id}`;
  if (typeof id === "string") {
    const bare = id
      .trim()
      .replace(/^\[(.*)\]$/, "$1")
      .trim()
      .toUpperCase();
    out.id = /^\d+$/.test(bare) ? `E${bare}` : bare;
  }
  return out;
}

export function parseOperations(text: string): Result<Operation[]> {
  const json = extractJson(text);
  if (!json.ok) return json;
  const list = operationsList(json.value);
  if (!list.ok) return list;
  const ops: Operation[] = [];
  for (const [i, raw] of list.value.entries()) {
    const where = `operation ${i + 1}`;
    if (!isRecord(raw)) return err(`${where}: not an object`);
    const candidate = normaliseOperation(raw);
    const kind = candidate.op;
    if (typeof kind !== "string" || !(OP_KINDS as readonly string[]).includes(kind)) {
      return err(`${where}: unknown op ${JSON.stringify(kind ?? null)} (expected ADD, UPDATE, DELETE or NONE)`);
    }
    const parsed = operationSchema.safeParse(candidate);
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((issue) => `${issue.path.join(".") || "value"}: ${issue.message}`).join("; ");
      return err(`${where} (${kind}): ${reasons}`);
    }
    ops.push(parsed.data);
  }
  return ok(ops);
}
