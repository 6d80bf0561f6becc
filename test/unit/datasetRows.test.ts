import { describe, expect, it } from "vitest";
import {
  CHUNK_BYTES,
  DATASET_NAME,
  describeRowIssues,
  encodeRow,
  JsonArraySplitter,
  LineSplitter,
  MalformedBody,
  MAX_LINE_CHARS,
  MAX_LISTED_ISSUES,
  MAX_ROW_BYTES,
  RowChunker,
  RowValidator,
  utf8Length,
  type RawRow,
  type SampleRow,
} from "../../src/core/datasetRows";

/** Feeds `text` to a splitter in pieces of `size` characters. */
function split(splitter: LineSplitter | JsonArraySplitter, text: string, size = text.length || 1): RawRow[] {
  const out: RawRow[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...splitter.push(text.slice(i, i + size)));
  out.push(...splitter.finish());
  return out;
}

function validateAll(raws: RawRow[]) {
  const v = new RowValidator();
  const rows = raws.map((r) => v.accept(r)?.row).filter((r): r is SampleRow => r !== undefined);
  return { v, rows };
}

describe("LineSplitter", () => {
  const text = '{"a":1}\r\n\n  \n{"b":"x\\ny"}\n{"c":3}';
  it.each([1, 2, 3, 7, 100])("splits into non-blank lines with line numbers, in pieces of %i", (size) => {
    expect(split(new LineSplitter(), text, size)).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 4, text: '{"b":"x\\ny"}' },
      { line: 5, text: '{"c":3}' },
    ]);
  });

  it("strips a byte-order mark and handles a trailing newline", () => {
    expect(split(new LineSplitter(), '\ufeff{"a":1}\n')).toEqual([{ line: 1, text: '{"a":1}' }]);
  });

  it("marks an overlong line without buffering it and keeps counting lines", () => {
    const s = new LineSplitter();
    const out = [...s.push("x".repeat(MAX_LINE_CHARS)), ...s.push("yy\n"), ...s.push('{"ok":1}'), ...s.finish()];
    expect(out).toEqual([
      { line: 1, text: "", tooLong: true },
      { line: 2, text: '{"ok":1}' },
    ]);
  });
});

describe("JsonArraySplitter", () => {
  const text = '[\n {"a": "x,]}{[\\"", "b": [1, {"c": 2}]},\n {"d": 4}\n]\n';
  it.each([1, 2, 5, 1000])("yields the source text of each item with its line, in pieces of %i", (size) => {
    expect(split(new JsonArraySplitter(), text, size)).toEqual([
      { line: 2, text: '{"a": "x,]}{[\\"", "b": [1, {"c": 2}]}' },
      { line: 3, text: '{"d": 4}' },
    ]);
  });

  it("tracks escaped backslashes before quotes across piece boundaries", () => {
    const items = [{ p: "c:\\", q: "]", r: '\\"' }, { s: "\\\\\\", t: "},{" }, { u: "$\\frac{1}{2}$" }];
    const body = JSON.stringify(items, null, 1);
    for (const size of [1, 2, 3, 4, 5, 13]) {
      expect(split(new JsonArraySplitter(), body, size).map((r) => JSON.parse(r.text) as unknown)).toEqual(items);
    }
  });

  it("agrees with the JSONL splitter on the same rows, whatever the piece size", () => {
    const items = Array.from({ length: 200 }, (_, i) => ({
      id: i,
      question: `q ${i} "quoted" \\ back ${"é😀".repeat(i % 5)}`,
      answer: String(i),
      x: { y: [i, "]"] },
    }));
    const jsonl = items.map((r) => JSON.stringify(r)).join("\n");
    const array = JSON.stringify(items);
    for (const size of [17, 64, 1000, 100_000]) {
      const fromLines = split(new LineSplitter(), jsonl, size).map((r) => JSON.parse(r.text) as unknown);
      const fromArray = split(new JsonArraySplitter(), array, size).map((r) => JSON.parse(r.text) as unknown);
      expect(fromArray).toEqual(items);
      expect(fromLines).toEqual(items);
    }
  });

  it("accepts an empty array, and an empty body as no rows", () => {
    expect(split(new JsonArraySplitter(), " [ ] ")).toEqual([]);
    expect(split(new JsonArraySplitter(), " \n ")).toEqual([]);
  });

  it("passes scalar and broken items through so the validator reports them by line", () => {
    expect(split(new JsonArraySplitter(), '[1, {"a": tru}]')).toEqual([
      { line: 1, text: "1" },
      { line: 1, text: '{"a": tru}' },
    ]);
  });

  it.each([
    ['{"a": 1}', /expected a JSON array/],
    ['[{"a": 1}', /not closed/],
    ['[{"a": "unterminated}]', /not closed/],
    ['[{"a": 1}] x', /after the array/],
    ['[{"a": 1},]', /',' is followed by ']'/],
    ["[,{}]", /missing item/],
  ])("rejects malformed arrays: %j", (body, message) => {
    expect(() => split(new JsonArraySplitter(), body)).toThrow(MalformedBody);
    expect(() => split(new JsonArraySplitter(), body)).toThrow(message);
  });
});

describe("RowValidator", () => {
  it("normalises ids and answers and keeps extra fields", () => {
    const { v, rows } = validateAll([
      { line: 1, text: '{"id": 7, "question": "q1", "answer": 42, "source": "s", "meta": {"k": [1]}}' },
      { line: 2, text: '{"question": "q2", "answer": "x"}' },
      { line: 3, text: '{"id": "abc", "question": "q3", "answer": 1.5}' },
    ]);
    expect(v.ok).toBe(true);
    expect(rows).toEqual([
      { idx: 0, sampleId: "7", question: "q1", answer: "42", extras: { source: "s", meta: { k: [1] } } },
      { idx: 1, sampleId: "2", question: "q2", answer: "x", extras: null },
      { idx: 2, sampleId: "abc", question: "q3", answer: "1.5", extras: null },
    ]);
  });

  it("reports every invalid row by line with a reason", () => {
    const { v } = validateAll([
      { line: 1, text: '{"question": "", "answer": "1"}' },
      { line: 2, text: '{"question": "q"}' },
      { line: 3, text: '{"question": "q", "answer": true}' },
      { line: 4, text: "[1, 2]" },
      { line: 5, text: "{not json" },
      { line: 6, text: '{"id": {}, "question": "q", "answer": "a"}' },
      { line: 7, text: '{"question": 3, "answer": "a"}' },
      { line: 9, text: '{"question": "fine", "answer": "a"}' },
    ]);
    expect(v.ok).toBe(false);
    // Line 2 has no answer, which is allowed: an unlabelled sample (docs/learning.md).
    expect(v.issueCount).toBe(6);
    expect(v.issues.map((i) => i.line)).toEqual([1, 3, 4, 5, 6, 7]);
    const reasons = v.issues.map((i) => i.reason);
    expect(reasons[0]).toMatch(/question must not be empty/);
    expect(reasons[1]).toMatch(/answer must be a string or a number/);
    expect(reasons[2]).toMatch(/must be a JSON object/);
    expect(reasons[3]).toMatch(/not valid JSON/);
    expect(reasons[4]).toMatch(/id must be a string or a number/);
    expect(reasons[5]).toMatch(/question/);
  });

  it("finds duplicate ids, including a generated id that collides with a given one", () => {
    const { v } = validateAll([
      { line: 1, text: '{"id": "2", "question": "q", "answer": "a"}' },
      { line: 2, text: '{"question": "q", "answer": "a"}' },
      { line: 3, text: '{"id": 1, "question": "q", "answer": "a"}' },
      { line: 4, text: '{"id": "1", "question": "q", "answer": "a"}' },
    ]);
    expect(v.duplicateCount).toBe(2);
    expect(v.issues).toEqual([
      { line: 2, kind: "duplicate", reason: "duplicate id '2' (generated from its position), first used on line 1" },
      { line: 4, kind: "duplicate", reason: "duplicate id '1', first used on line 3" },
    ]);
    expect(describeRowIssues(v, "jsonl")).toMatch(/^upload rejected, nothing was stored: 2 duplicate ids: line 2: .*; line 4: /);
  });

  it("lists the first 20 problems and gives the total", () => {
    const raws = Array.from({ length: 50 }, (_, i) => ({ line: i + 1, text: "{}" }));
    const { v } = validateAll(raws);
    expect(v.issueCount).toBe(50);
    expect(v.issues).toHaveLength(MAX_LISTED_ISSUES);
    const message = describeRowIssues(v, "jsonl");
    expect(message).toContain("50 invalid rows, first 20: line 1:");
    expect(message).toContain("line 20:");
    expect(message).not.toContain("line 21:");
    expect(message).toContain("and 30 more");
  });

  it("rejects overlong rows", () => {
    const big = "é".repeat(MAX_ROW_BYTES / 2);
    const { v } = validateAll([
      { line: 1, text: "", tooLong: true },
      { line: 2, text: JSON.stringify({ question: big, answer: "1" }) },
    ]);
    expect(v.issues.map((i) => i.line)).toEqual([1, 2]);
    expect(v.issues[1]?.reason).toMatch(/bytes stored; the limit is/);
  });
});

describe("RowChunker", () => {
  const row = (idx: number, question = "q"): SampleRow => ({
    idx,
    sampleId: String(idx),
    question,
    answer: "a",
    extras: idx % 2 ? { k: idx } : null,
  });

  it("packs rows into JSON chunks under the byte budget, each row exactly once", () => {
    const chunker = new RowChunker(200);
    const chunks: string[] = [];
    for (let i = 0; i < 50; i++) {
      const c = chunker.add(encodeRow(row(i, "€".repeat(i % 7))));
      if (c) chunks.push(c);
    }
    const last = chunker.flush();
    if (last) chunks.push(last);
    expect(chunker.flush()).toBeNull();
    for (const c of chunks) expect(utf8Length(c)).toBeLessThanOrEqual(200);
    const decoded = chunks.flatMap((c) => JSON.parse(c) as unknown[][]);
    expect(decoded.map((r) => r[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(decoded[1]).toEqual([1, "1", "€", "a", { k: 1 }]);
  });

  it("puts a row larger than the budget in a chunk of its own", () => {
    const chunker = new RowChunker(100);
    expect(chunker.add(encodeRow(row(0)))).toBeNull();
    const first = chunker.add(encodeRow(row(1, "x".repeat(500))));
    expect(first && JSON.parse(first)).toHaveLength(1);
    expect(JSON.parse(chunker.flush() ?? "[]")).toHaveLength(1);
  });

  it("uses a budget that keeps chunks within D1's 2 MB value limit", () => {
    expect(CHUNK_BYTES + MAX_ROW_BYTES).toBeLessThanOrEqual(2_000_000);
  });
});

describe("utf8Length", () => {
  it.each(["", "abc", "é", "€", "😀", "a\ud800b", "mixed é€😀"])("matches TextEncoder for %j", (s) => {
    expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  });
});

describe("DATASET_NAME", () => {
  it.each(["aime24", "gsm8k-test", "a", "x_1"])("accepts %j", (n) => expect(DATASET_NAME.test(n)).toBe(true));
  it.each(["", "../etc", "x'; DROP TABLE samples;--", "Upper", "-lead", "a/b", "a".repeat(64)])("rejects %j", (n) =>
    expect(DATASET_NAME.test(n)).toBe(false),
  );
});
