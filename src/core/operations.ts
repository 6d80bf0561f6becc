import { z } from "zod";
import { MAX_NAME_CHARS, MAX_TEXT_CHARS, oneLine, wordCount, type Experience } from "./library";
import { err, ok, type Result } from "./result";

const itemId = z
  .string()
  .trim()
  .regex(/^E\d+$/, "expected an item id like E3");
/** One line, not empty, capped in characters (an over-long item is refused, never truncated). */
const line = (max: number) =>
  z
    .string()
    .transform(oneLine)
    .pipe(z.string().min(1, "must not be empty").max(max, `must be at most ${max} characters`));
const itemName = line(MAX_NAME_CHARS);
const itemText = line(MAX_TEXT_CHARS);

/** One edit of the library, as proposed by the group/batch update stages. */
export const operationSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("ADD"), name: itemName, text: itemText }),
  z.object({ op: z.literal("UPDATE"), id: itemId, name: itemName.optional(), text: itemText }),
  z.object({ op: z.literal("DELETE"), id: itemId, reason: z.string().optional() }),
  z.object({ op: z.literal("NONE"), reason: z.string().optional() }),
]);

export type Operation = z.infer<typeof operationSchema>;
export type OpKind = Operation["op"];

/** Where a change came from; recorded in each touched item's provenance. */
export type PlanContext = { runId: string | null; epoch: number | null; batch: number | null };

export type Caps = { maxExperiences: number; maxWords: number };

function describe(op: Operation, index: number): string {
  return "id" in op ? `operation ${index + 1} (${op.op} ${op.id})` : `operation ${index + 1} (${op.op})`;
}

/**
 * Checks a plan against the library it will be applied to and returns it normalised: NONE dropped,
 * an UPDATE of an item the plan also DELETEs dropped (DELETE wins, as the batch stage is told),
 * repeated DELETEs of one id collapsed. Several UPDATEs of one id are an error rather than a guess at
 * which wins: merging them into one principle is the batch stage's job, so the caller retries it.
 * The item-count cap is deliberately not checked here: an over-full library is brought back under the
 * cap by the consolidation stage (see `capViolations`), never by rejecting or truncating a plan.
 */
export function validatePlan(plan: readonly Operation[], items: readonly Experience[], caps: Caps): Result<Operation[]> {
  const known = new Set(items.map((item) => item.id));
  const deleted = new Set<string>();
  const updated = new Set<string>();
  for (const [i, op] of plan.entries()) {
    if ((op.op === "UPDATE" || op.op === "DELETE") && !known.has(op.id)) {
      return err(`${describe(op, i)}: unknown id ${op.id} (library has ${[...known].join(", ") || "no items"})`);
    }
    if (op.op === "DELETE") deleted.add(op.id);
    if (op.op === "ADD" || op.op === "UPDATE") {
      const words = wordCount(op.text);
      if (words > caps.maxWords) return err(`${describe(op, i)}: text has ${words} words > ${caps.maxWords}`);
    }
  }
  for (const [i, op] of plan.entries()) {
    if (op.op !== "UPDATE" || deleted.has(op.id)) continue;
    if (updated.has(op.id)) return err(`${describe(op, i)}: ${op.id} is updated more than once; merge the updates into one`);
    updated.add(op.id);
  }
  const seenDeletes = new Set<string>();
  const normalised = plan.filter((op) => {
    if (op.op === "NONE") return false;
    if (op.op === "UPDATE") return !deleted.has(op.id);
    if (op.op === "DELETE") {
      if (seenDeletes.has(op.id)) return false;
      seenDeletes.add(op.id);
    }
    return true;
  });
  return ok(normalised);
}

export type ApplyResult = {
  items: Experience[];
  highestId: number;
  applied: Record<OpKind, number>;
};

/**
 * Applies a plan to a library, returning a new array (inputs are not mutated). Ids are stable: UPDATE
 * keeps id and position, ADD takes E<highest+1> where `highestId` is the highest number ever issued for
 * the agent (pass it in, store what comes back) so deleted ids are never reused. All-or-nothing: an
 * invalid plan throws before anything is built, because callers must have validated it already.
 * Word caps are not rechecked here (callers may apply an over-long plan on purpose before consolidating).
 */
export function applyPlan(items: readonly Experience[], plan: readonly Operation[], ctx: PlanContext & { highestId: number }): ApplyResult {
  const checked = validatePlan(plan, items, { maxExperiences: Number.POSITIVE_INFINITY, maxWords: Number.POSITIVE_INFINITY });
  if (!checked.ok) throw new Error(`applyPlan: invalid plan (validate before applying): ${checked.error}`);
  const { runId, epoch, batch } = ctx;
  const applied: Record<OpKind, number> = { ADD: 0, UPDATE: 0, DELETE: 0, NONE: 0 };
  applied.NONE = plan.filter((op) => op.op === "NONE").length;

  const deletes = new Set<string>();
  const updates = new Map<string, Extract<Operation, { op: "UPDATE" }>>();
  for (const op of checked.value) {
    if (op.op === "DELETE") deletes.add(op.id);
    if (op.op === "UPDATE") updates.set(op.id, op);
  }

  const next: Experience[] = [];
  for (const item of items) {
    if (deletes.has(item.id)) {
      applied.DELETE++;
      continue;
    }
    const update = updates.get(item.id);
    if (!update) {
      next.push({ ...item, provenance: [...item.provenance] });
      continue;
    }
    applied.UPDATE++;
    next.push({
      id: item.id,
      name: update.name ?? item.name,
      text: update.text,
      provenance: [...item.provenance, { runId, epoch, batch, op: "UPDATE" }],
      // Credit stays with the stable id: a refined item keeps the record of the lesson it refines.
      ...(item.stats ? { stats: item.stats } : {}),
    });
  }

  let highestId = Math.max(ctx.highestId, highestItemNumber(items));
  for (const op of checked.value) {
    if (op.op !== "ADD") continue;
    highestId++;
    applied.ADD++;
    next.push({ id: `E${highestId}`, name: op.name, text: op.text, provenance: [{ runId, epoch, batch, op: "ADD" }] });
  }
  return { items: next, highestId, applied };
}

/** Human-readable cap violations; empty when the library is within caps. */
export function capViolations(items: readonly Pick<Experience, "id" | "text">[], caps: Caps): string[] {
  const out: string[] = [];
  if (items.length > caps.maxExperiences) out.push(`library has ${items.length} items > ${caps.maxExperiences}`);
  for (const item of items) {
    const words = wordCount(item.text);
    if (words > caps.maxWords) out.push(`item ${item.id} has ${words} words > ${caps.maxWords}`);
  }
  return out;
}

/** Highest numeric suffix among ids like E12; 0 for an empty library. */
export function highestItemNumber(items: readonly { id: string }[]): number {
  let max = 0;
  for (const { id } of items) {
    const match = /^E(\d+)$/.exec(id);
    if (match) max = Math.max(max, Number(match[1]));
  }
  return max;
}
