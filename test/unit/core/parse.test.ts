import { describe, expect, it } from "vitest";
import { extractJson, parseExperiences, parseOperations, parseSummary } from "../../../src/core/parse";
import type { Result } from "../../../src/core/result";

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got error: ${r.error}`);
  return r.value;
}
function error<T>(r: Result<T>): string {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.error;
}

const opts = { max: 2, maxWords: 32 };

describe("parseSummary", () => {
  it("takes the content of <summary> tags, ignoring prose around them", () => {
    expect(value(parseSummary("Sure!\n<summary>\nStep 1: factored the quadratic.\n</summary>\nHope this helps."))).toBe(
      "Step 1: factored the quadratic.",
    );
  });
  it("accepts tags in any case and with attributes", () => {
    expect(value(parseSummary('<SUMMARY lang="en">It divided by zero in step 2.</Summary>'))).toBe("It divided by zero in step 2.");
  });
  it("keeps a summary whose closing tag was cut off", () => {
    expect(value(parseSummary("<summary>The attempt guessed the answer without"))).toBe("The attempt guessed the answer without");
  });
  it("falls back to the whole trimmed text, unfenced, without tags", () => {
    expect(value(parseSummary("  The attempt checked every case.  "))).toBe("The attempt checked every case.");
    expect(value(parseSummary("```\nThe attempt checked every case.\n```"))).toBe("The attempt checked every case.");
  });
  it("rejects empty and too-short summaries with a reason", () => {
    expect(error(parseSummary("<summary>   </summary>"))).toMatch(/empty/);
    expect(error(parseSummary(""))).toMatch(/empty/);
    expect(error(parseSummary("<summary>ok</summary>"))).toMatch(/too short/);
  });
});

describe("parseExperiences", () => {
  it("reads the format the advantage prompt asks for", () => {
    const reply = `<analysis>Attempt 1 checked the domain.</analysis>
<experiences>
<experience name="Check the domain">When solving equations with roots, verify candidates against the domain.</experience>
</experiences>`;
    expect(value(parseExperiences(reply, opts))).toEqual([
      { name: "Check the domain", text: "When solving equations with roots, verify candidates against the domain." },
    ]);
  });
  it("tolerates fences, tag case, single and smart quotes, and missing closing tags", () => {
    const reply =
      "```xml\n<Experiences>\n<EXPERIENCE name='Units first'>Convert all units before computing.</Experience>\n" +
      "<experience name=“Sanity check”>Compare the result with a rough estimate.\n</experiences>\n```";
    expect(value(parseExperiences(reply, opts))).toEqual([
      { name: "Units first", text: "Convert all units before computing." },
      { name: "Sanity check", text: "Compare the result with a rough estimate." },
    ]);
  });
  it("keeps apostrophes inside double-quoted names", () => {
    expect(value(parseExperiences(`<experience name="Don't guess">Derive each value.</experience>`, opts))).toEqual([
      { name: "Don't guess", text: "Derive each value." },
    ]);
  });
  it("reads items without an <experiences> block, and an unclosed block", () => {
    expect(value(parseExperiences(`<experience name="A">Do a.</experience>`, opts))).toHaveLength(1);
    expect(value(parseExperiences(`<experiences><experience name="A">Do a.</experience>`, opts))).toHaveLength(1);
  });
  it("derives a short name from the first words when the name is missing", () => {
    expect(
      value(
        parseExperiences("<experiences><experience>When a sum telescopes, write out the first terms.</experience></experiences>", opts),
      ),
    ).toEqual([{ name: "When a sum telescopes, write", text: "When a sum telescopes, write out the first terms." }]);
  });
  it("falls back to numbered lines inside the block", () => {
    const reply =
      "<experiences>\n1. **Check parity**: Odd and even cases often behave differently.\n2) When stuck: try small cases first.\n</experiences>";
    expect(value(parseExperiences(reply, opts))).toEqual([
      { name: "Check parity", text: "Odd and even cases often behave differently." },
      { name: "When stuck: try small cases", text: "When stuck: try small cases first." },
    ]);
  });
  it("prefers the last block, since an earlier one is often the format echoed back", () => {
    const reply = `<analysis>You asked for <experiences><experience name="Short name">One sentence.</experience></experiences></analysis>
<experiences><experience name="Real">The real lesson.</experience></experiences>`;
    expect(value(parseExperiences(reply, opts))).toEqual([{ name: "Real", text: "The real lesson." }]);
  });
  it("accepts an empty block (or 'None') as zero experiences", () => {
    expect(value(parseExperiences("<analysis>All attempts equal.</analysis><experiences>\n</experiences>", opts))).toEqual([]);
    expect(value(parseExperiences("<experiences>None.</experiences>", opts))).toEqual([]);
  });
  it("rejects a reply with neither block nor items", () => {
    expect(error(parseExperiences("I think the attempts were all fine.", opts))).toMatch(/no <experiences> block/);
  });
  it("rejects a block with prose but no items", () => {
    expect(
      error(parseExperiences("<experiences>The better attempts were careful and thorough in their reasoning.</experiences>", opts)),
    ).toMatch(/no <experience> items/);
  });
  it("rejects more items than asked for, saying how many", () => {
    const reply = `<experiences>${["a", "b", "c"].map((n) => `<experience name="${n}">Do ${n}.</experience>`).join("")}</experiences>`;
    expect(error(parseExperiences(reply, opts))).toBe("asked for at most 2 experience(s), got 3");
  });
  it("rejects an over-long item, naming it", () => {
    const long = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
    expect(error(parseExperiences(`<experience name="Wordy">${long}</experience>`, opts))).toBe('experience 1 "Wordy" has 40 words > 32');
  });
  it("rejects an over-long name and an empty item", () => {
    expect(error(parseExperiences(`<experience name="one two three four five six seven eight nine">Do it.</experience>`, opts))).toMatch(
      /name .* 9 words > 8/,
    );
    expect(error(parseExperiences(`<experiences><experience name="Blank"></experience></experiences>`, opts))).toMatch(
      /"Blank" has no text/,
    );
  });
});

describe("extractJson", () => {
  it("finds JSON in fences, in prose, and repairs trailing commas", () => {
    expect(value(extractJson('```json\n{"a": [1, 2,],}\n```'))).toEqual({ a: [1, 2] });
    expect(value(extractJson('Here you go: {"a": "x, }"} — done.'))).toEqual({ a: "x, }" });
  });
  it("skips bracketed prose before the JSON and takes the outermost value", () => {
    expect(value(extractJson('Item [E3] stays. {"operations": [{"op": "NONE"}]}'))).toEqual({ operations: [{ op: "NONE" }] });
  });
  it("normalises smart quotes only when the JSON cannot be read otherwise", () => {
    expect(value(extractJson("{“a”: “b”}"))).toEqual({ a: "b" });
    expect(value(extractJson('{"a": "say “hi”"}'))).toEqual({ a: "say “hi”" });
  });
  it("refuses truncated JSON rather than returning a fragment of it", () => {
    expect(error(extractJson('{"operations": [{"op": "ADD", "name": "A", "text": "B"}, {"op": "UPD'))).toMatch(/truncated/);
  });
  it("does not fall back to a fragment inside a broken outer value", () => {
    expect(error(extractJson('{"operations": [{"op": "NONE"} {"op": "ADD"}]}'))).toMatch(/no valid JSON/);
  });
});

describe("parseOperations", () => {
  it("reads the shape the prompts ask for", () => {
    const reply = `{"operations": [
      {"op": "ADD", "name": "A", "text": "Do a."},
      {"op": "UPDATE", "id": "E3", "name": "B", "text": "Do b."},
      {"op": "DELETE", "id": "E2", "reason": "wrong"},
      {"op": "NONE", "reason": "covered"}
    ]}`;
    expect(value(parseOperations(reply))).toEqual([
      { op: "ADD", name: "A", text: "Do a." },
      { op: "UPDATE", id: "E3", name: "B", text: "Do b." },
      { op: "DELETE", id: "E2", reason: "wrong" },
      { op: "NONE", reason: "covered" },
    ]);
  });
  it("accepts a bare array in a fence with prose and trailing commas", () => {
    const reply = 'The plan:\n```json\n[{"op": "add", "name": "A", "text": "Do a.",},]\n```\nThat is all.';
    expect(value(parseOperations(reply))).toEqual([{ op: "ADD", name: "A", text: "Do a." }]);
  });
  it("normalises op case and aliases, id spellings, key case and nulls", () => {
    const reply = '{"Operations": [{"Operation": "Update", "ID": "[e3]", "name": null, "text": "T."}, {"op": "delete", "id": 4}]}';
    expect(value(parseOperations(reply))).toEqual([
      { op: "UPDATE", id: "E3", text: "T." },
      { op: "DELETE", id: "E4" },
    ]);
  });
  it("accepts an empty plan and a single operation object", () => {
    expect(value(parseOperations('{"operations": []}'))).toEqual([]);
    expect(value(parseOperations('{"op": "NONE"}'))).toEqual([{ op: "NONE" }]);
  });
  it("names the bad index and the reason", () => {
    expect(error(parseOperations('{"operations": [{"op": "NONE"}, {"op": "MERGE", "id": "E1"}]}'))).toBe(
      'operation 2: unknown op "MERGE" (expected ADD, UPDATE, DELETE or NONE)',
    );
    expect(error(parseOperations('[{"op": "NONE"}, {"op": "UPDATE", "id": "E1"}]'))).toMatch(/^operation 2 \(UPDATE\): text:/);
    expect(error(parseOperations('[{"op": "ADD", "name": "", "text": "x"}]'))).toMatch(/^operation 1 \(ADD\): name: must not be empty/);
    expect(error(parseOperations('[{"op": "DELETE", "id": "item-3"}]'))).toMatch(/id: expected an item id/);
    expect(error(parseOperations('["ADD"]'))).toBe("operation 1: not an object");
  });
  it("rejects replies without JSON or without an operations list", () => {
    expect(error(parseOperations("No changes needed."))).toMatch(/no valid JSON/);
    expect(error(parseOperations('{"plan": 1, "notes": 2}'))).toMatch(/expected \{"operations"/);
    expect(error(parseOperations('{"operations": "none"}'))).toMatch(/not an array/);
  });
});
