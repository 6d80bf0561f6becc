/**
 * Consolidation: brings the library within its caps by merging and deleting, never truncating a
 * lesson silently: wrong and vague items go first, duplicates of one pitfall merge into one, long
 * items are rewritten shorter, and only then are the last distinct items dropped.
 */
import { wordCount } from "../../core/library";
import { fitWords, goodWithin, isSpecific, maxWordsOf, numberAfter, operationsJson, parseLibrary, type Operation } from "./common";
import { pitfallById, type PitfallId } from "../pitfalls";

export function consolidateOps(prompt: string): Operation[] {
  const library = parseLibrary(prompt);
  const cap = numberAfter(prompt, /must hold at most (\d+) items/) ?? Infinity;
  const maxWords = maxWordsOf(prompt);
  const ops: Operation[] = [];
  const kept: typeof library = [];
  const seen = new Set<PitfallId>();
  for (const item of library) {
    if (item.cls.kind === "misleading") {
      ops.push({
        op: "DELETE",
        id: item.id,
        reason: `wrong advice: contradicts the right way to handle ${pitfallById(item.cls.pitfall).label}`,
      });
      continue;
    }
    if (!isSpecific(item.cls)) {
      ops.push({ op: "DELETE", id: item.id, reason: "vague: names no technique a reader could apply" });
      continue;
    }
    if (seen.has(item.cls.pitfall)) {
      ops.push({ op: "DELETE", id: item.id, reason: `merged into the other item on ${pitfallById(item.cls.pitfall).label}` });
      continue;
    }
    seen.add(item.cls.pitfall);
    kept.push(item);
    if (wordCount(item.text) > maxWords) {
      const short = goodWithin(item.cls.pitfall, maxWords);
      ops.push({ op: "UPDATE", id: item.id, name: item.name, text: fitWords(short.text, maxWords) });
    }
  }
  while (kept.length > cap) {
    const dropped = kept.pop();
    if (!dropped) break;
    const i = ops.findIndex((o) => o.op === "UPDATE" && o.id === dropped.id);
    if (i >= 0) ops.splice(i, 1);
    ops.push({ op: "DELETE", id: dropped.id, reason: "least useful item; the library is over its cap" });
  }
  if (ops.length === 0) ops.push({ op: "NONE", reason: "the library is already within its caps and holds no vague or duplicate items" });
  return ops;
}

export function consolidateReply(prompt: string): string {
  return operationsJson(consolidateOps(prompt));
}
