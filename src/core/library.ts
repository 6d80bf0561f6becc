/**
 * Which run, epoch, batch and operation made or changed an item (docs/architecture.md, "Library versions").
 * An entry made by hand or by an import also says so, by whom and why (docs/ownership.md); `importedId`
 * is the id an item had in an imported file when it was given another one here.
 */
export type Provenance = {
  runId: string | null;
  epoch: number | null;
  batch: number | null;
  op: string;
  source?: "manual" | "imported";
  author?: string;
  reason?: string;
  importedId?: string;
};

/** One learned experience. `id` (E1, E2, …) is stable across versions of an agent's library. */
/** Credit counters of an item (credit.ts); absent on items made before counters existed. */
export type Experience = {
  id: string;
  name: string;
  text: string;
  provenance: Provenance[];
  stats?: { cited: number; helpful: number; harmful: number; batches: number };
};

/** The fixed sentence that introduces the library wherever it is injected. */
export const LIBRARY_INTRO = "Experiences learned from earlier attempts at tasks like this one. Apply each one that fits the problem:";

/**
 * Character caps of an item (docs/security.md, "Experiences"): the word cap is a hyperparameter, but
 * a few "words" of thousands of characters each must not pass it.
 */
export const MAX_NAME_CHARS = 80;
export const MAX_TEXT_CHARS = 800;

/**
 * One line of plain text: every run of whitespace, line or paragraph separator and control character
 * becomes one space, so no name or text can start a line of its own in the rendered library.
 */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\s\u0000-\u001f\u007f-\u009f\u200b\u2028\u2029]+/g, " ").trim();
}

/**
 * The one rendering used by training, evaluation and serving, so that what a library was trained
 * with is byte-for-byte what it is served with (and upstream prefix caches keep hitting).
 */
export function renderLibrary(items: readonly Pick<Experience, "id" | "name" | "text">[]): string {
  if (items.length === 0) return "";
  // Items are normalised when made (operations.ts); rendering normalises again for rows stored earlier.
  const lines = items.map((item) => `[${item.id}] ${oneLine(item.name)}: ${oneLine(item.text)}`);
  return `${LIBRARY_INTRO}\n${lines.join("\n")}`;
}

export function wordCount(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(/\s+/).length;
}

/** Next free stable id: one past the highest numeric suffix ever seen (ids are never reused). */
export function nextItemId(existing: readonly { id: string }[], highestEver = 0): string {
  let max = highestEver;
  for (const { id } of existing) {
    const n = Number(id.replace(/^E/, ""));
    if (Number.isInteger(n) && n > max) max = n;
  }
  return `E${max + 1}`;
}

/** Where an item's name ends in a one-line "Name: text" (the rendering's own separator). */
const NAME_SEPARATOR = ": ";
const MAX_NAME_WORDS = 8;

/**
 * Name and text of an item given only as text (the reference implementation's format, a manual ADD
 * without a name): a short "Name: text" prefix becomes the name, so the rendered line reads exactly as
 * the text did; otherwise the name is the text's first words.
 */
export function splitNamed(line: string): { name: string; text: string } {
  const text = oneLine(line);
  const at = text.indexOf(NAME_SEPARATOR);
  if (at > 0) {
    const name = text.slice(0, at).trim();
    const rest = text.slice(at + NAME_SEPARATOR.length).trim();
    if (name.length <= MAX_NAME_CHARS && wordCount(name) <= MAX_NAME_WORDS && rest !== "") return { name, text: rest };
  }
  return { name: nameFromText(text), text };
}

/** The first few words of a text, without trailing punctuation, within the name cap. */
export function nameFromText(text: string): string {
  const words = oneLine(text).split(" ").slice(0, 6);
  let name = "";
  for (const word of words) {
    const next = name === "" ? word : `${name} ${word}`;
    if (next.length > MAX_NAME_CHARS) break;
    name = next;
  }
  return name.replace(/[\s,;:.!?-]+$/, "") || name.slice(0, MAX_NAME_CHARS);
}

/** The caps an agent's library is held to (its training defaults, else the paper's). */
export type ItemCaps = { maxExperiences: number; maxWords: number };

/**
 * The first problem of one item, in words, or null: empty, longer than the character caps, or more
 * words than the agent allows. The same rules a learned item is held to (operations.ts).
 */
export function itemProblem(item: { name: string; text: string }, caps: ItemCaps): string | null {
  const name = oneLine(item.name);
  const text = oneLine(item.text);
  if (text === "") return "text is empty";
  if (text.length > MAX_TEXT_CHARS) return `text has ${text.length} characters > ${MAX_TEXT_CHARS}`;
  if (name === "") return "name is empty";
  if (name.length > MAX_NAME_CHARS) return `name has ${name.length} characters > ${MAX_NAME_CHARS}`;
  const words = wordCount(text);
  if (words > caps.maxWords) return `text has ${words} words > the agent's cap of ${caps.maxWords} (maxWordsPerExperience)`;
  return null;
}
