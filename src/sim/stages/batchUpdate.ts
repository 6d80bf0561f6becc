/**
 * Stage 7 (batch update): merges the groups' proposals into a net plan. Several UPDATEs of one id
 * become one, DELETE wins over UPDATE, ADDs on the same pitfall (or with the same words) merge, NONE
 * is dropped, an ADD on a pitfall a vague or wrong item names becomes an UPDATE of that item, and the
 * plan keeps the library within its cap by deleting wrong, then vague, items first.
 */
import { classifyExperience, type Classification } from "../experienceMatch";
import {
  fitWords,
  isSpecific,
  maxWordsOf,
  numberAfter,
  operationsJson,
  parseLibrary,
  sameText,
  type LibItem,
  type Operation,
} from "./common";

type Proposal = { op: string; id?: string; name?: string; text?: string; reason?: string };

export function parseProposals(prompt: string): Proposal[] {
  const out: Proposal[] = [];
  for (const m of prompt.matchAll(/^\d+\. \((?:group \d+|credit record)\) (\{.*\})$/gm)) {
    try {
      const v: unknown = JSON.parse(m[1] ?? "");
      if (v && typeof v === "object" && "op" in v && typeof v.op === "string") {
        const r = v as Record<string, unknown>;
        const str = (k: string): string | undefined => (typeof r[k] === "string" ? r[k] : undefined);
        out.push({ op: v.op.toUpperCase(), id: str("id"), name: str("name"), text: str("text"), reason: str("reason") });
      }
    } catch {
      // A proposal we cannot read is skipped, as a reader would skip a garbled line.
    }
  }
  return out;
}

/** How little an item is worth keeping: wrong advice least of all, then generic, then topic-only. */
const vagueness = (c: Classification): number => (c.kind === "misleading" ? 3 : c.kind === "generic" ? 2 : c.kind === "topic" ? 1 : 0);

export function batchUpdateOps(prompt: string): Operation[] {
  const library = parseLibrary(prompt);
  const byId = new Map(library.map((i) => [i.id, i]));
  const cap = numberAfter(prompt, /may hold at most (\d+) items/) ?? Infinity;
  const maxWords = maxWordsOf(prompt);
  const proposals = parseProposals(prompt);

  const deletes = new Map<string, string>();
  for (const p of proposals) if (p.op === "DELETE" && p.id && byId.has(p.id)) deletes.set(p.id, p.reason ?? "proposed for deletion");

  // UPDATEs: one per id, preferring a specific lesson; none for an id being deleted.
  const updates = new Map<string, { name: string; text: string; cls: Classification }>();
  for (const p of proposals) {
    if (p.op !== "UPDATE" || !p.id || !byId.has(p.id) || deletes.has(p.id) || !p.text) continue;
    const cls = classifyExperience(p.name ?? "", p.text);
    const prev = updates.get(p.id);
    if (!prev || vagueness(cls) < vagueness(prev.cls))
      updates.set(p.id, { name: p.name ?? byId.get(p.id)?.name ?? "Lesson", text: p.text, cls });
  }

  // The library as it will look after deletes and updates, to judge ADDs against.
  const after = (): LibItem[] =>
    library
      .filter((i) => !deletes.has(i.id))
      .map((i) => {
        const u = updates.get(i.id);
        return u ? { id: i.id, name: u.name, text: u.text, cls: u.cls } : i;
      });

  const adds: { name: string; text: string; cls: Classification }[] = [];
  for (const p of proposals) {
    if (p.op !== "ADD" || !p.text) continue;
    const cls = classifyExperience(p.name ?? "", p.text);
    const current = after();
    if (isSpecific(cls)) {
      if (current.some((i) => isSpecific(i.cls) && i.cls.pitfall === cls.pitfall)) continue;
      if (adds.some((a) => isSpecific(a.cls) && a.cls.pitfall === cls.pitfall)) continue;
      const weaker =
        current.find((i) => i.cls.kind === "misleading" && i.cls.pitfall === cls.pitfall && !updates.has(i.id)) ??
        current.find((i) => i.cls.kind === "topic" && i.cls.pitfall === cls.pitfall && !updates.has(i.id));
      if (weaker) {
        updates.set(weaker.id, { name: p.name ?? weaker.name, text: p.text, cls });
        continue;
      }
    } else {
      if (current.some((i) => sameText(i.text, p.text ?? "")) || adds.some((a) => sameText(a.text, p.text ?? ""))) continue;
      if (
        (cls.kind === "topic" || cls.kind === "misleading") &&
        [...current, ...adds].some((i) => isSpecific(i.cls) && i.cls.pitfall === cls.pitfall)
      )
        continue;
    }
    adds.push({ name: p.name ?? "Lesson", text: p.text, cls });
  }

  // Cap: delete vague library items first, then drop vague ADDs, then the last ADDs.
  const size = (): number => library.length - deletes.size + adds.length;
  if (size() > cap) {
    const vagueItems = after()
      .filter((i) => i.cls.kind !== "specific")
      .sort((a, b) => vagueness(b.cls) - vagueness(a.cls));
    for (const i of vagueItems) {
      if (size() <= cap) break;
      deletes.set(i.id, i.cls.kind === "misleading" ? "gives wrong advice; makes room within the cap" : "vague; makes room within the cap");
      updates.delete(i.id);
    }
  }
  while (size() > cap && adds.length > 0) {
    let worst = 0;
    adds.forEach((a, idx) => {
      const w = adds[worst];
      if (w && vagueness(a.cls) >= vagueness(w.cls)) worst = idx;
    });
    adds.splice(worst, 1);
  }

  const ops: Operation[] = [];
  for (const [id, reason] of deletes) ops.push({ op: "DELETE", id, reason });
  for (const [id, u] of updates) ops.push({ op: "UPDATE", id, name: u.name, text: fitWords(u.text, maxWords) });
  for (const a of adds) ops.push({ op: "ADD", name: a.name, text: fitWords(a.text, maxWords) });
  return ops;
}

export function batchUpdateReply(prompt: string): string {
  return operationsJson(batchUpdateOps(prompt));
}
