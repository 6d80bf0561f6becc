/** The library merged into the Responses API's `instructions` and the Messages API's `system`. */
import { describe, expect, it } from "vitest";
import { injectInstructions, injectSystem } from "../../src/core/inject";

const LIB = "Experiences:\n1. [E1] Count both ends.";

describe("injectInstructions", () => {
  it("appends (or prepends) to the client's instructions, or sets them when absent", () => {
    expect(injectInstructions("Be exact.", LIB)).toBe(`Be exact.\n\n${LIB}`);
    expect(injectInstructions("Be exact.", LIB, "before")).toBe(`${LIB}\n\nBe exact.`);
    expect(injectInstructions(undefined, LIB)).toBe(LIB);
    expect(injectInstructions(null, LIB)).toBe(LIB);
    expect(injectInstructions("", LIB)).toBe(LIB);
  });

  it("leaves the instructions as they are with an empty library", () => {
    expect(injectInstructions("Be exact.", "")).toBe("Be exact.");
    expect(injectInstructions(undefined, "")).toBeUndefined();
  });
});

describe("injectSystem", () => {
  it("merges into a system string, or sets it when absent", () => {
    expect(injectSystem("Be exact.", LIB)).toBe(`Be exact.\n\n${LIB}`);
    expect(injectSystem(undefined, LIB)).toBe(LIB);
    expect(injectSystem([], LIB)).toBe(LIB);
  });

  it("merges into the last text block (after) or the first (before), never adding a block, keeping cache_control", () => {
    const blocks = [
      { type: "text", text: "A." },
      { type: "text", text: "B.", cache_control: { type: "ephemeral" } },
    ];
    const after = injectSystem(blocks, LIB);
    expect(after).toEqual([
      { type: "text", text: "A." },
      { type: "text", text: `B.\n\n${LIB}`, cache_control: { type: "ephemeral" } },
    ]);
    expect(injectSystem(blocks, LIB, "before")).toEqual([{ type: "text", text: `${LIB}\n\nA.` }, blocks[1]]);
    expect(blocks[1]?.text).toBe("B.");
    // Byte-stable: the same input gives the same bytes.
    expect(JSON.stringify(injectSystem(blocks, LIB))).toBe(JSON.stringify(after));
  });

  it("with no text block to merge into, adds the one text block", () => {
    const blocks = [{ type: "image", source: {} }];
    expect(injectSystem(blocks, LIB)).toEqual([...blocks, { type: "text", text: LIB }]);
  });

  it("leaves system as it is with an empty library", () => {
    expect(injectSystem("S", "")).toBe("S");
    expect(injectSystem(undefined, "")).toBeUndefined();
  });
});
