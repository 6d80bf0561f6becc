import { type Experience, type ItemCaps, itemProblem, oneLine, splitNamed } from "./library";
import { highestItemNumber } from "./operations";

/**
 * A version made by hand (docs/ownership.md): an admin's list of operations on a base version, checked
 * as a whole before anything is built, so a request either makes the whole version or nothing.
 */
export type ManualOperation =
  | { op: "add"; name?: string; text: string }
  | { op: "edit"; id: string; name?: string; text?: string }
  | { op: "delete"; id: string };

/** Who made a change and why; recorded on every item it touches. */
export type Stamp = { source: "manual" | "imported"; author: string; reason: string };

export type ManualEditOutcome =
  | { ok: true; items: Experience[]; highestId: number; applied: { added: number; edited: number; deleted: number } }
  | { ok: false; error: string; param: string };

function label(op: ManualOperation, i: number): string {
  return `operations[${i}] (${op.op}${"id" in op ? ` ${op.id}` : ""})`;
}

/**
 * Applies `operations` to `base`: edits keep an item's id and position, deletes drop it, adds take new
 * ids past `highestId` (the highest the agent ever issued, so no id is reused). Refused, naming the
 * first problem: an unknown id, an id touched twice, an edit that changes nothing, an empty or
 * over-long item, or a result with more items than the agent's cap.
 */
export function applyManualEdit(
  base: readonly Experience[],
  operations: readonly ManualOperation[],
  ctx: { caps: ItemCaps; highestId: number; stamp: Stamp },
): ManualEditOutcome {
  const byId = new Map(base.map((item) => [item.id, item]));
  const touched = new Map<string, number>();
  const edits = new Map<string, { name: string; text: string }>();
  const deletes = new Set<string>();
  const adds: { name: string; text: string }[] = [];
  const fail = (i: number, message: string, field?: string): ManualEditOutcome => ({
    ok: false,
    error: `${label(operations[i] as ManualOperation, i)}: ${message}`,
    param: `operations.${i}${field ? `.${field}` : ""}`,
  });
  for (const [i, op] of operations.entries()) {
    if (op.op === "add") {
      const given =
        op.name === undefined || oneLine(op.name) === "" ? splitNamed(op.text) : { name: oneLine(op.name), text: oneLine(op.text) };
      const problem = itemProblem(given, ctx.caps);
      if (problem) return fail(i, problem, problem.startsWith("name") ? "name" : "text");
      adds.push(given);
      continue;
    }
    const item = byId.get(op.id);
    if (!item) return fail(i, `unknown id ${op.id} (the base version has ${[...byId.keys()].join(", ") || "no items"})`, "id");
    const earlier = touched.get(op.id);
    if (earlier !== undefined) return fail(i, `${op.id} is already changed by operations[${earlier}]; one operation per item`, "id");
    touched.set(op.id, i);
    if (op.op === "delete") {
      deletes.add(op.id);
      continue;
    }
    const next = { name: op.name === undefined ? item.name : oneLine(op.name), text: op.text === undefined ? item.text : oneLine(op.text) };
    const problem = itemProblem(next, ctx.caps);
    if (problem) return fail(i, problem, problem.startsWith("name") ? "name" : "text");
    if (next.name === item.name && next.text === item.text) return fail(i, "changes nothing (same name and text)", "text");
    edits.set(op.id, next);
  }
  const count = base.length - deletes.size + adds.length;
  if (count > ctx.caps.maxExperiences) {
    return {
      ok: false,
      error: `the new version would hold ${count} items > the agent's cap of ${ctx.caps.maxExperiences} (maxExperiences)`,
      param: "operations",
    };
  }
  const entry = (op: "ADD" | "UPDATE") => ({ runId: null, epoch: null, batch: null, op, ...ctx.stamp });
  const items: Experience[] = [];
  for (const item of base) {
    if (deletes.has(item.id)) continue;
    const edit = edits.get(item.id);
    items.push(
      edit ? { ...item, ...edit, provenance: [...item.provenance, entry("UPDATE")] } : { ...item, provenance: [...item.provenance] },
    );
  }
  let highestId = Math.max(ctx.highestId, highestItemNumber(base));
  for (const add of adds) {
    highestId++;
    items.push({ id: `E${highestId}`, ...add, provenance: [entry("ADD")] });
  }
  return { ok: true, items, highestId, applied: { added: adds.length, edited: edits.size, deleted: deletes.size } };
}
