import { describe, expect, it } from "vitest";
import type { Experience } from "../../../src/core/library";
import { applyPlan, capViolations, highestItemNumber, operationSchema, validatePlan, type Operation } from "../../../src/core/operations";
import type { Result } from "../../../src/core/result";

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got error: ${r.error}`);
  return r.value;
}
function error<T>(r: Result<T>): string {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

const seed = { runId: null, epoch: null, batch: null, op: "ADD" };
const item = (id: string, text = `Text of ${id}.`): Experience => ({ id, name: `Name ${id}`, text, provenance: [seed] });
const library: Experience[] = [item("E1"), item("E2"), item("E4")];
const caps = { maxExperiences: 10, maxWords: 8 };
const ctx = { runId: "run-1", epoch: 2, batch: 3 };

describe("operationSchema", () => {
  it("discriminates on op and requires each variant's fields", () => {
    expect(operationSchema.safeParse({ op: "UPDATE", id: "E1", text: "t" }).success).toBe(true);
    expect(operationSchema.safeParse({ op: "UPDATE", text: "t" }).success).toBe(false);
    expect(operationSchema.safeParse({ op: "ADD", name: "n" }).success).toBe(false);
    expect(operationSchema.safeParse({ op: "NONE" }).success).toBe(true);
    expect(operationSchema.safeParse({ op: "add", name: "n", text: "t" }).success).toBe(false);
  });
});

describe("validatePlan", () => {
  it("drops NONE and returns the rest in order", () => {
    const plan: Operation[] = [{ op: "NONE" }, { op: "ADD", name: "A", text: "Do a." }, { op: "DELETE", id: "E2" }];
    expect(value(validatePlan(plan, library, caps))).toEqual([
      { op: "ADD", name: "A", text: "Do a." },
      { op: "DELETE", id: "E2" },
    ]);
  });
  it("lets DELETE win over UPDATE of the same id, dropping the UPDATE instead of failing", () => {
    const plan: Operation[] = [
      { op: "UPDATE", id: "E1", text: "New." },
      { op: "UPDATE", id: "E1", text: "Newer." },
      { op: "DELETE", id: "E1" },
      { op: "DELETE", id: "E1" },
    ];
    expect(value(validatePlan(plan, library, caps))).toEqual([{ op: "DELETE", id: "E1" }]);
  });
  it("rejects ids not in the library", () => {
    expect(error(validatePlan([{ op: "UPDATE", id: "E3", text: "x" }], library, caps))).toBe(
      "operation 1 (UPDATE E3): unknown id E3 (library has E1, E2, E4)",
    );
    expect(error(validatePlan([{ op: "DELETE", id: "E9" }], [], caps))).toMatch(/unknown id E9 \(library has no items\)/);
  });
  it("rejects several UPDATEs of one id: merging them is the batch stage's job", () => {
    const plan: Operation[] = [
      { op: "UPDATE", id: "E2", text: "a" },
      { op: "UPDATE", id: "E2", text: "b" },
    ];
    expect(error(validatePlan(plan, library, caps))).toMatch(/operation 2 \(UPDATE E2\): E2 is updated more than once/);
  });
  it("rejects texts over the word cap, but not plans that overfill the library (consolidation handles that)", () => {
    expect(error(validatePlan([{ op: "ADD", name: "A", text: "one two three four five six seven eight nine" }], library, caps))).toBe(
      "operation 1 (ADD): text has 9 words > 8",
    );
    const adds: Operation[] = Array.from({ length: 5 }, (_, i) => ({ op: "ADD", name: `N${i}`, text: "t" }));
    expect(value(validatePlan(adds, library, { maxExperiences: 3, maxWords: 8 }))).toHaveLength(5);
  });
});

describe("applyPlan", () => {
  it("adds with fresh ids after the highest ever issued, never reusing a deleted id", () => {
    const v1 = applyPlan(
      library,
      [
        { op: "DELETE", id: "E4" },
        { op: "ADD", name: "A", text: "Do a." },
      ],
      { ...ctx, highestId: 6 },
    );
    expect(v1.items.map((i) => i.id)).toEqual(["E1", "E2", "E7"]);
    expect(v1.highestId).toBe(7);
    const v2 = applyPlan(
      v1.items,
      [
        { op: "DELETE", id: "E7" },
        { op: "ADD", name: "B", text: "Do b." },
      ],
      { ...ctx, highestId: v1.highestId },
    );
    expect(v2.items.map((i) => i.id)).toEqual(["E1", "E2", "E8"]);
    expect(v2.highestId).toBe(8);
  });
  it("uses the library's own highest id when the passed one is stale", () => {
    const r = applyPlan(library, [{ op: "ADD", name: "A", text: "a" }], { ...ctx, highestId: 0 });
    expect(r.items.at(-1)?.id).toBe("E5");
    expect(r.highestId).toBe(5);
  });
  it("keeps id and position on UPDATE, replaces text and (if given) name, and records provenance", () => {
    const r = applyPlan(
      library,
      [
        { op: "UPDATE", id: "E2", text: "Better." },
        { op: "UPDATE", id: "E1", name: "Renamed", text: "Best." },
      ],
      { ...ctx, highestId: 4 },
    );
    expect(r.items.map((i) => [i.id, i.name, i.text])).toEqual([
      ["E1", "Renamed", "Best."],
      ["E2", "Name E2", "Better."],
      ["E4", "Name E4", "Text of E4."],
    ]);
    expect(r.items[1]?.provenance).toEqual([seed, { runId: "run-1", epoch: 2, batch: 3, op: "UPDATE" }]);
    expect(r.items[2]?.provenance).toEqual([seed]);
  });
  it("gives an ADD provenance of its own and appends it at the end", () => {
    const r = applyPlan([], [{ op: "ADD", name: "A", text: "a" }], { ...ctx, highestId: 0 });
    expect(r.items).toEqual([{ id: "E1", name: "A", text: "a", provenance: [{ runId: "run-1", epoch: 2, batch: 3, op: "ADD" }] }]);
  });
  it("counts what it applied, after DELETE-wins normalisation", () => {
    const plan: Operation[] = [
      { op: "ADD", name: "A", text: "a" },
      { op: "UPDATE", id: "E1", text: "x" },
      { op: "UPDATE", id: "E2", text: "y" },
      { op: "DELETE", id: "E2" },
      { op: "NONE" },
      { op: "NONE" },
    ];
    expect(applyPlan(library, plan, { ...ctx, highestId: 4 }).applied).toEqual({ ADD: 1, UPDATE: 1, DELETE: 1, NONE: 2 });
  });
  it("does not mutate its inputs", () => {
    const before = structuredClone(library);
    const r = applyPlan(
      library,
      [
        { op: "UPDATE", id: "E1", text: "x" },
        { op: "DELETE", id: "E2" },
      ],
      { ...ctx, highestId: 4 },
    );
    expect(library).toEqual(before);
    expect(r.items).not.toBe(library);
    r.items[1]?.provenance.push(seed);
    expect(library[2]?.provenance).toHaveLength(1);
  });
  it("is all-or-nothing: an invalid plan throws and changes nothing", () => {
    const before = structuredClone(library);
    expect(() =>
      applyPlan(
        library,
        [
          { op: "DELETE", id: "E1" },
          { op: "UPDATE", id: "E99", text: "x" },
        ],
        { ...ctx, highestId: 4 },
      ),
    ).toThrow(/invalid plan.*unknown id E99/);
    expect(library).toEqual(before);
  });
});

describe("capViolations", () => {
  it("is empty within caps", () => {
    expect(capViolations(library, { maxExperiences: 3, maxWords: 3 })).toEqual([]);
  });
  it("lists too many items and each over-long item", () => {
    const long = item("E3", Array.from({ length: 40 }, () => "w").join(" "));
    expect(capViolations([...library, long], { maxExperiences: 3, maxWords: 32 })).toEqual([
      "library has 4 items > 3",
      "item E3 has 40 words > 32",
    ]);
  });
});

describe("highestItemNumber", () => {
  it("is the highest numeric suffix, 0 when empty, ignoring malformed ids", () => {
    expect(highestItemNumber(library)).toBe(4);
    expect(highestItemNumber([])).toBe(0);
    expect(highestItemNumber([{ id: "E10" }, { id: "E9" }, { id: "X99" }])).toBe(10);
  });
});
