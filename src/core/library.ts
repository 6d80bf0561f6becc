/** One learned experience. `id` (E1, E2, …) is stable across versions of an agent's library. */
/** Which run, epoch, batch and operation made or changed an item (docs/architecture.md, "Library versions"). */
export type Provenance = { runId: string | null; epoch: number | null; batch: number | null; op: string };

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
