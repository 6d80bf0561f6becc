import type { Experience } from "./library";

export type LibraryDiff = {
  added: Experience[];
  updated: { id: string; before: Experience; after: Experience }[];
  deleted: Experience[];
  unchanged: number;
};

/** Item-by-item difference between two versions; stable ids make it exact. */
export function diffLibraries(from: readonly Experience[], to: readonly Experience[]): LibraryDiff {
  const before = new Map(from.map((e) => [e.id, e]));
  const after = new Map(to.map((e) => [e.id, e]));
  const diff: LibraryDiff = { added: [], updated: [], deleted: [], unchanged: 0 };
  for (const item of to) {
    const old = before.get(item.id);
    if (!old) diff.added.push(item);
    else if (old.name !== item.name || old.text !== item.text) diff.updated.push({ id: item.id, before: old, after: item });
    else diff.unchanged++;
  }
  for (const item of from) if (!after.has(item.id)) diff.deleted.push(item);
  return diff;
}
