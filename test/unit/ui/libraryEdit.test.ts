import { describe, expect, it } from "vitest";
import { itemLine, operationsFromText } from "../../../ui/libraryEdit";

const items = [
  { id: "E1", name: "Ranges", text: "Count both ends." },
  { id: "E2", name: "Units", text: "An hour is 60 minutes." },
  { id: "E4", name: "Posts", text: "Add one post." },
];

describe("the dashboard's edit-by-hand form", () => {
  it("turns edited lines into edits, missing lines into deletes and lines without an id into adds", () => {
    const text = [
      itemLine(items[0]!),
      "[E2] Time: An hour is 60 minutes.",
      "",
      "[E4] Add one post for the far end.",
      "Remainders: never negative.",
    ].join("\n");
    expect(operationsFromText(items, text)).toEqual({
      ok: true,
      operations: [
        { op: "edit", id: "E2", name: "Time" },
        { op: "edit", id: "E4", text: "Add one post for the far end." },
        { op: "add", text: "Remainders: never negative." },
      ],
    });
    expect(operationsFromText(items, itemLine(items[1]!))).toEqual({
      ok: true,
      operations: [
        { op: "delete", id: "E1" },
        { op: "delete", id: "E4" },
      ],
    });
    expect(operationsFromText(items, items.map(itemLine).join("\n"))).toEqual({ ok: true, operations: [] });
  });

  it("refuses an id the version does not have, or the same id twice", () => {
    expect(operationsFromText(items, "[E9] X: y")).toEqual({
      ok: false,
      error: "line 1: E9 is not an item of this version (leave out the [E9] to add a new item)",
    });
    expect(operationsFromText(items, "[E1] a: b\n[E1] c: d")).toEqual({ ok: false, error: "line 2: E1 appears twice" });
  });
});
