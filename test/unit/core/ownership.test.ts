import { describe, expect, it } from "vitest";
import { scanKeys } from "../../../src/core/jsonKeys";
import { type Experience, itemProblem, nameFromText, renderLibrary, splitNamed } from "../../../src/core/library";
import { assignImportedIds, readLibraryFile, toNativeFile, toReferenceFile } from "../../../src/core/libraryFile";
import { applyManualEdit, type ManualOperation } from "../../../src/core/manualEdit";
import { modelMismatchWarning } from "../../../src/core/modelWarning";

const learned = { runId: "run_1", epoch: 1, batch: 0, op: "ADD" };
const item = (id: string, name: string, text: string): Experience => ({ id, name, text, provenance: [learned] });
const BASE: Experience[] = [
  item("E1", "Inclusive ranges", "When counting integers in a closed range, use last minus first plus one."),
  item("E2", "Products first", "Multiply before adding in a fee plus a rate times a quantity."),
  item("E4", "Minutes", "An hour is sixty minutes, not one hundred."),
];
const caps = { maxExperiences: 4, maxWords: 20 };
const stamp = { source: "manual" as const, author: "alice", reason: "fix wording" };
const edit = (ops: ManualOperation[], highestId = 5) => applyManualEdit(BASE, ops, { caps, highestId, stamp });

describe("applyManualEdit", () => {
  it("adds past the highest id ever issued, edits in place and deletes, recording who and why", () => {
    const out = edit([
      { op: "edit", id: "E2", text: "Compute products and quotients before sums." },
      { op: "delete", id: "E1" },
      { op: "add", name: "Remainders", text: "A remainder is never negative: add the modulus." },
    ]);
    if (!out.ok) throw new Error(out.error);
    expect(out.items.map((i) => i.id)).toEqual(["E2", "E4", "E6"]);
    expect(out.highestId).toBe(6);
    expect(out.applied).toEqual({ added: 1, edited: 1, deleted: 1 });
    expect(out.items[0]).toMatchObject({ name: "Products first", text: "Compute products and quotients before sums." });
    expect(out.items[0]?.provenance).toEqual([learned, { runId: null, epoch: null, batch: null, op: "UPDATE", ...stamp }]);
    expect(out.items[1]?.provenance).toEqual([learned]);
    expect(out.items[2]?.provenance).toEqual([{ runId: null, epoch: null, batch: null, op: "ADD", ...stamp }]);
    // The base is not mutated.
    expect(BASE[1]?.text).toMatch(/^Multiply/);
  });

  it("names an added item from a short 'Name: ' prefix, or from its first words", () => {
    const out = edit([
      { op: "delete", id: "E4" },
      { op: "add", text: "Fence posts: add one post for the far end." },
      { op: "add", text: "When a problem counts posts along a fence, add one for the end." },
    ]);
    if (!out.ok) throw new Error(out.error);
    expect(out.items.slice(2).map((i) => [i.name, i.text])).toEqual([
      ["Fence posts", "add one post for the far end."],
      ["When a problem counts posts along", "When a problem counts posts along a fence, add one for the end."],
    ]);
  });

  it.each<[string, ManualOperation[], RegExp, string]>([
    [
      "an unknown id",
      [{ op: "edit", id: "E3", text: "x y" }],
      /operations\[0\] \(edit E3\): unknown id E3 \(the base version has E1, E2, E4\)/,
      "operations.0.id",
    ],
    [
      "an id touched twice",
      [
        { op: "delete", id: "E1" },
        { op: "edit", id: "E1", text: "x" },
      ],
      /operations\[1\] \(edit E1\): E1 is already changed by operations\[0\]/,
      "operations.1.id",
    ],
    ["an empty text", [{ op: "add", name: "n", text: " \n\t " }], /operations\[0\] \(add\): text is empty/, "operations.0.text"],
    ["too many words", [{ op: "add", name: "n", text: "word ".repeat(21) }], /21 words > the agent's cap of 20/, "operations.0.text"],
    ["too many characters", [{ op: "add", name: "n", text: "x".repeat(801) }], /801 characters > 800/, "operations.0.text"],
    ["an over-long name", [{ op: "edit", id: "E4", name: "n".repeat(81) }], /name has 81 characters > 80/, "operations.0.name"],
    [
      "an edit that changes nothing",
      [{ op: "edit", id: "E4", text: "An hour is sixty minutes, not one hundred." }],
      /changes nothing/,
      "operations.0.text",
    ],
    [
      "more items than the cap",
      [
        { op: "add", text: "a b" },
        { op: "add", text: "c d" },
      ],
      /would hold 5 items > the agent's cap of 4 \(maxExperiences\)/,
      "operations",
    ],
  ])("refuses %s, naming the first problem", (_, ops, message, param) => {
    const out = edit(ops);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error).toMatch(message);
    expect(out.param).toBe(param);
  });
});

describe("item names and rules", () => {
  it("splits only a short prefix, so 'Name: text' renders exactly as written", () => {
    expect(splitNamed("Units: an hour is 60 minutes.")).toEqual({ name: "Units", text: "an hour is 60 minutes." });
    const long = "This prefix has far too many words to be any kind of name at all: rest";
    expect(splitNamed(long).text).toBe(long);
    expect(nameFromText("Always, check: the end.")).toBe("Always, check: the end");
    expect(itemProblem({ name: "n", text: "ok text" }, caps)).toBeNull();
    expect(itemProblem({ name: "", text: "ok" }, caps)).toBe("name is empty");
  });
});

describe("scanKeys", () => {
  it("finds the first key written twice, in any object, and keeps the written order of top-level keys", () => {
    expect(scanKeys('{"10": "a", "2": "b", "x": "c"}')).toEqual({ topKeys: ["10", "2", "x"], duplicate: null });
    expect(scanKeys('{"a": "x", "b": "y", "a": "z"}').duplicate).toEqual({ key: "a", at: 21 });
    expect(scanKeys('{"items": [{"id": "E1", "id": "E2"}]}').duplicate?.key).toBe("id");
    // Escapes inside strings and keys that only look alike are not duplicates.
    expect(scanKeys('{"a\\"b": "}{,", "a\\u0022b2": 1}').duplicate).toBeNull();
    expect(scanKeys('{"a": {"k": 1}, "b": {"k": 2}}').duplicate).toBeNull();
  });
});

describe("library files", () => {
  const meta = {
    agent: "a",
    version: 3,
    source: "learned" as const,
    author: null,
    model: "sim-1",
    note: "n",
    createdAt: "2025-01-01T00:00:00Z",
  };
  const bigCaps = { maxExperiences: 40, maxWords: 32 };

  it("round-trips our format with ids, names, provenance and the model", () => {
    const file = toNativeFile(meta, BASE);
    const read = readLibraryFile(JSON.stringify(file), "auto", bigCaps);
    if (!read.ok) throw new Error(read.error);
    expect(read.format).toBe("native");
    expect(read.model).toBe("sim-1");
    const items = assignImportedIds(read.items, { highestEver: 0, renumber: false, author: "bob", reason: "copy" });
    expect(renderLibrary(items)).toBe(renderLibrary(BASE));
    expect(items[2]?.provenance).toEqual([
      learned,
      { runId: null, epoch: null, batch: null, op: "IMPORT", source: "imported", author: "bob", reason: "copy" },
    ]);
  });

  it("round-trips the reference format's id → 'Name: text' lines, renders the same and keeps our ids", () => {
    const ref = toReferenceFile(BASE);
    expect(ref).toEqual({
      E1: "Inclusive ranges: When counting integers in a closed range, use last minus first plus one.",
      E2: "Products first: Multiply before adding in a fee plus a rate times a quantity.",
      E4: "Minutes: An hour is sixty minutes, not one hundred.",
    });
    const read = readLibraryFile(JSON.stringify(ref), "auto", bigCaps);
    if (!read.ok) throw new Error(read.error);
    expect(read.format).toBe("reference");
    expect(renderLibrary(assignImportedIds(read.items, { highestEver: 0, renumber: false, author: "b", reason: "r" }))).toBe(
      renderLibrary(BASE),
    );
  });

  it("numbers the reference's own ids past the agent's highest, in the order the file wrote them, recording the old id", () => {
    const text = '{"10": "Later item.", "2": "Earlier item.", "G1": "Third: one."}';
    const read = readLibraryFile(text, "reference", bigCaps);
    if (!read.ok) throw new Error(read.error);
    const items = assignImportedIds(read.items, { highestEver: 7, renumber: false, author: "b", reason: "r" });
    expect(items.map((i) => [i.id, i.name, i.text, i.provenance[0]?.importedId])).toEqual([
      ["E8", "Later item", "Later item.", "10"],
      ["E9", "Earlier item", "Earlier item.", "2"],
      ["E10", "Third", "one.", "G1"],
    ]);
    const ours = readLibraryFile('{"E3": "a b", "E1": "c d"}', "auto", bigCaps);
    if (!ours.ok) throw new Error(ours.error);
    const renumbered = assignImportedIds(ours.items, { highestEver: 5, renumber: true, author: "b", reason: "r" });
    expect(renumbered.map((i) => i.id)).toEqual(["E6", "E7"]);
  });

  it.each<[string, string, RegExp, string]>([
    ["not JSON", '{"E1": "a",', /the file is not valid JSON: /, "invalid_json"],
    ["a duplicate id", '{"1": "first", "2": "second", "1": "again"}', /duplicate id "1"/, "duplicate_ids"],
    [
      "a duplicate item id in our format",
      JSON.stringify(toNativeFile(meta, [BASE[0]!, BASE[0]!])),
      /items\[1\] \(E1\): duplicate id E1/,
      "duplicate_ids",
    ],
    ["an empty item", '{"0": "ok text", "1": "   "}', /item "1": text is empty/, "invalid_library_file"],
    ["an over-long item", `{"0": "${"word ".repeat(33)}"}`, /item "0": text has 33 words > the agent's cap of 32/, "invalid_library_file"],
    [
      "more items than the cap",
      JSON.stringify(Object.fromEntries(Array.from({ length: 41 }, (_, i) => [String(i), `item ${i}`]))),
      /41 items > the agent's cap of 40/,
      "too_many_items",
    ],
    ["neither format", '[{"id": "E1"}]', /not a library file/, "invalid_library_file"],
    ["a reference value that is not text", '{"0": 5}', /item "0" is not text/, "invalid_library_file"],
    [
      "another version of our format",
      '{"format": "tfgrpo-library", "formatVersion": 2, "items": []}',
      /unsupported formatVersion 2/,
      "invalid_library_file",
    ],
    ["no items", "{}", /holds no items/, "empty_library"],
  ])("refuses %s with the first problem", (_, text, message, code) => {
    const read = readLibraryFile(text, "auto", bigCaps);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error).toMatch(message);
    expect(read.code).toBe(code);
  });
});

describe("modelMismatchWarning", () => {
  it("warns only when the version's recorded model differs from the one served", () => {
    expect(modelMismatchWarning({ version: 2, model: "a" }, "b")).toMatch(/version 2 was learned with model 'a' but the agent serves 'b'/);
    expect(modelMismatchWarning({ version: 2, model: "a" }, "a")).toBeNull();
    expect(modelMismatchWarning({ version: 2, model: null }, "a")).toBeNull();
    expect(modelMismatchWarning(null, "a")).toBeNull();
  });
});
