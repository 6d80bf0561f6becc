import { describe, expect, it } from "vitest";
import { injectLibrary } from "../../src/core/inject";
import { renderLibrary } from "../../src/core/library";

const LIB = renderLibrary([
  { id: "E1", name: "Inclusive counting", text: "Count both endpoints: last - first + 1." },
  { id: "E2", name: "Percent base", text: "A percentage applies to the original value." },
]);

describe("injectLibrary", () => {
  it("appends to the first system message after a blank line by default", () => {
    const out = injectLibrary(
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
      ],
      LIB,
    );
    expect(out).toEqual([
      { role: "system", content: `Be brief.\n\n${LIB}` },
      { role: "user", content: "hi" },
    ]);
  });

  it("prepends when position is 'before'", () => {
    const out = injectLibrary([{ role: "system", content: "Be brief." }], LIB, "before");
    expect(out).toEqual([{ role: "system", content: `${LIB}\n\nBe brief.` }]);
  });

  it("inserts one system message at the start when there is none", () => {
    const out = injectLibrary(
      [
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
      ],
      LIB,
    );
    expect(out).toEqual([
      { role: "system", content: LIB },
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
    ]);
  });

  it("merges into a developer message and never adds a second instruction message", () => {
    const out = injectLibrary(
      [
        { role: "user", content: "hi" },
        { role: "developer", content: "Rules." },
      ],
      LIB,
    );
    expect(out).toEqual([
      { role: "user", content: "hi" },
      { role: "developer", content: `Rules.\n\n${LIB}` },
    ]);
    expect(out.filter((m) => m.role === "system" || m.role === "developer")).toHaveLength(1);
  });

  it("touches only the first of several system messages", () => {
    const out = injectLibrary(
      [
        { role: "system", content: "A" },
        { role: "system", content: "B" },
      ],
      LIB,
    );
    expect(out[0]?.content).toBe(`A\n\n${LIB}`);
    expect(out[1]?.content).toBe("B");
  });

  it("adds a text part to content-part arrays, at the end or the start", () => {
    const parts = [{ type: "text", text: "Follow the rubric.", cache_control: { type: "ephemeral" } }];
    const after = injectLibrary([{ role: "system", content: parts }], LIB);
    expect(after[0]?.content).toEqual([...parts, { type: "text", text: LIB }]);
    const before = injectLibrary([{ role: "system", content: parts }], LIB, "before");
    expect(before[0]?.content).toEqual([{ type: "text", text: LIB }, ...parts]);
  });

  it("uses the library as the whole text of an empty or null system message", () => {
    expect(injectLibrary([{ role: "system", content: "" }], LIB)[0]?.content).toBe(LIB);
    expect(injectLibrary([{ role: "system", content: null }], LIB)[0]?.content).toBe(LIB);
    expect(injectLibrary<{ role: string; content?: unknown }>([{ role: "system" }], LIB)[0]?.content).toBe(LIB);
  });

  it("keeps unknown fields of every message and of the merged one", () => {
    const messages = [
      { role: "system", content: "S", name: "ops", x_extra: { a: 1 } },
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", content: "42", tool_call_id: "call_1" },
    ];
    const out = injectLibrary(messages, LIB);
    expect(out[0]).toEqual({ role: "system", content: `S\n\n${LIB}`, name: "ops", x_extra: { a: 1 } });
    expect(out[1]).toBe(messages[1]);
    expect(out[2]).toBe(messages[2]);
  });

  it("does not mutate its input", () => {
    const messages = [
      { role: "system", content: "S" },
      { role: "user", content: [{ type: "text", text: "q" }] },
    ];
    const snapshot = structuredClone(messages);
    injectLibrary(messages, LIB);
    injectLibrary(messages, LIB, "before");
    injectLibrary([{ role: "system", content: [{ type: "text", text: "p" }] }], LIB);
    expect(messages).toEqual(snapshot);
  });

  it("leaves messages unchanged for an empty library", () => {
    const messages = [{ role: "user", content: "hi" }];
    const out = injectLibrary(messages, renderLibrary([]));
    expect(out).toEqual(messages);
    expect(out).not.toBe(messages);
  });

  it("is byte-for-byte stable across calls", () => {
    const messages = [
      { role: "system", content: "S" },
      { role: "user", content: "q" },
    ];
    const a = JSON.stringify(injectLibrary(messages, LIB));
    const b = JSON.stringify(
      injectLibrary(
        structuredClone(messages),
        renderLibrary([
          { id: "E1", name: "Inclusive counting", text: "Count both endpoints: last - first + 1." },
          { id: "E2", name: "Percent base", text: "A percentage applies to the original value." },
        ]),
      ),
    );
    expect(a).toBe(b);
  });

  it("is typed generically: training's string-content messages stay assignable", () => {
    type ChatMessage = { role: "system" | "user" | "assistant"; content: string };
    const msgs: ChatMessage[] = [{ role: "user", content: "q" }];
    const out: ChatMessage[] = injectLibrary(msgs, LIB);
    expect(out[0]).toEqual({ role: "system", content: LIB });
  });
});
