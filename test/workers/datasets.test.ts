import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { db } from "../../src/db/client";
import { deleteDataset } from "../../src/db/datasets";
import { agents, datasets, runs, samples } from "../../src/db/schema";
import { ADMIN, call, expectErrorShape, json, type ErrorShape } from "./helpers";

type Dataset = {
  id: string;
  name: string;
  source: string;
  description: string;
  attribution: string | null;
  sampleCount: number;
  createdAt: string;
};
type Sample = { idx: number; id: string; question: string; answer: string; extras: Record<string, unknown> | null };
type Page = { data: Sample[]; offset: number; limit: number; total: number };

const JSONL = "application/x-ndjson";

function upload(query: string, body: BodyInit, contentType = JSONL, headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit & { duplex?: "half" } = { method: "POST", headers: { ...ADMIN, "content-type": contentType, ...headers }, body };
  if (body instanceof ReadableStream) init.duplex = "half";
  return exports.default.fetch(new Request(`http://tfgrpo.test/api/datasets?${query}`, init));
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n");
const rows = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: `r${from + i}`, question: `What is ${from + i} + 1?`, answer: from + i + 1 }));

async function names(): Promise<string[]> {
  return (await json<{ data: Dataset[] }>(await call("GET", "/api/datasets"))).data.map((d) => d.name);
}

async function storedSampleCount(): Promise<number> {
  const row = await db(env.DB).select({ n: sql<number>`count(*)` }).from(samples).get();
  return row?.n ?? 0;
}

async function expectError(res: Response, status: number, code?: string): Promise<string> {
  expect(res.status).toBe(status);
  const body = await json<ErrorShape>(res);
  expectErrorShape(body);
  if (code) expect(body.error.code).toBe(code);
  return body.error.message;
}

/** A body stream made of `count` copies of `chunk`, produced on demand (never held whole). */
function repeated(chunk: Uint8Array, count: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ < count) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

describe("upload", () => {
  it("stores a JSONL upload and serves it by id and by name, in pages", async () => {
    const body = jsonl([
      { id: "a", question: "1+1?", answer: 2, source: "test", tags: ["x"] },
      { question: "2+2?", answer: "4" },
      { id: 3, question: "3+3?", answer: "6" },
    ]);
    const res = await upload("name=small&description=three%20rows", `${body}\n`);
    expect(res.status).toBe(201);
    const created = await json<Dataset>(res);
    expect(created).toMatchObject({ name: "small", source: "upload", description: "three rows", sampleCount: 3, attribution: null });
    expect(created.id).toMatch(/^ds_/);

    for (const ref of [created.id, "small"]) {
      expect(await json<Dataset>(await call("GET", `/api/datasets/${ref}`))).toEqual(created);
    }
    const all = await json<Page>(await call("GET", "/api/datasets/small/samples"));
    expect(all).toEqual({
      offset: 0,
      limit: 50,
      total: 3,
      data: [
        { idx: 0, id: "a", question: "1+1?", answer: "2", extras: { source: "test", tags: ["x"] } },
        { idx: 1, id: "2", question: "2+2?", answer: "4", extras: null },
        { idx: 2, id: "3", question: "3+3?", answer: "6", extras: null },
      ],
    });
    const page = await json<Page>(await call("GET", "/api/datasets/small/samples?offset=1&limit=1"));
    expect(page).toMatchObject({ offset: 1, limit: 1, total: 3 });
    expect(page.data.map((s) => s.id)).toEqual(["2"]);
    await expectError(await call("GET", "/api/datasets/small/samples?limit=1001"), 400);
    await expectError(await call("GET", "/api/datasets/small/samples?offset=-1"), 400);
    expect((await json<{ data: Dataset[] }>(await call("GET", "/api/datasets"))).data.find((d) => d.name === "small")?.sampleCount).toBe(3);
  });

  it("stores a JSON array upload (and a body split across many small chunks)", async () => {
    const res = await upload("name=array", JSON.stringify(rows(5)), "application/json; charset=utf-8");
    expect(res.status).toBe(201);
    expect((await json<Dataset>(res)).sampleCount).toBe(5);

    const bytes = new TextEncoder().encode(JSON.stringify(rows(40)));
    let at = 0;
    const dribble = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= bytes.length) return c.close();
        c.enqueue(bytes.slice(at, at + 7));
        at += 7;
      },
    });
    const res2 = await upload("name=array-dribbled", dribble, "application/json");
    expect(res2.status).toBe(201);
    const page = await json<Page>(await call("GET", "/api/datasets/array-dribbled/samples?offset=39"));
    expect(page.data).toEqual([{ idx: 39, id: "r39", question: "What is 39 + 1?", answer: "40", extras: null }]);
  });

  it("accepts application/jsonl and multi-byte text split inside a character", async () => {
    const bytes = new TextEncoder().encode(jsonl([{ id: "ü", question: "Größe von 😀?", answer: "½" }]));
    const halves = [bytes.slice(0, 20), bytes.slice(20)];
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = halves.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    });
    expect((await upload("name=unicode", stream, "application/jsonl")).status).toBe(201);
    const page = await json<Page>(await call("GET", "/api/datasets/unicode/samples"));
    expect(page.data[0]).toMatchObject({ id: "ü", question: "Größe von 😀?", answer: "½" });
  });

  it("rejects invalid rows with their line numbers and stores nothing", async () => {
    const before = await names();
    const samplesBefore = await storedSampleCount();
    const lines = [
      JSON.stringify({ question: "ok", answer: 1 }),
      JSON.stringify({ question: "", answer: 1 }),
      "",
      JSON.stringify({ question: "no answer" }),
      "{oops",
      ...rows(3000, 10).map((r) => JSON.stringify(r)), // enough valid rows after the errors to fill several chunks
      JSON.stringify({ question: "q", answer: false }),
    ];
    const message = await expectError(await upload("name=broken", lines.join("\n")), 400, "invalid_rows");
    expect(message).toContain("nothing was stored");
    // Line 4 has no answer, which is allowed (an unlabelled sample, docs/learning.md).
    expect(message).toContain("3 invalid rows");
    expect(message).toMatch(/line 2: question must not be empty/);
    expect(message).not.toMatch(/line 4:/);
    expect(message).toMatch(/line 5: not valid JSON/);
    expect(message).toMatch(/line 3006: answer must be a string or a number/);
    expect(await names()).toEqual(before);
    expect(await storedSampleCount()).toBe(samplesBefore);
    // The name was not kept: a valid upload under it now succeeds.
    expect((await upload("name=broken", jsonl(rows(2)))).status).toBe(201);
  });

  it("rejects invalid rows found after thousands of valid ones were already written, leaving nothing behind", async () => {
    const samplesBefore = await storedSampleCount();
    const body = `${jsonl(rows(20_000))}\n${JSON.stringify({ id: "bad", question: 7, answer: "x" })}\n`;
    const message = await expectError(await upload("name=late-error", body), 400, "invalid_rows");
    expect(message).toMatch(/line 20001: question/);
    expect(await storedSampleCount()).toBe(samplesBefore);
    expect(await names()).not.toContain("late-error");
  });

  it("lists the first 20 problems and the total", async () => {
    const message = await expectError(
      await upload("name=many-errors", Array.from({ length: 45 }, () => "{}").join("\n")),
      400,
      "invalid_rows",
    );
    expect(message).toContain("45 invalid rows, first 20");
    expect(message).toContain("line 20:");
    expect(message).not.toContain("line 21:");
    expect(message).toContain("and 25 more");
  });

  it("rejects duplicate ids, naming them", async () => {
    const body = jsonl([
      { id: "x", question: "q", answer: "a" },
      { id: "y", question: "q", answer: "a" },
      { id: "x", question: "q", answer: "a" },
      { question: "q", answer: "a" }, // generated id "4"
      { id: 4, question: "q", answer: "a" },
    ]);
    const message = await expectError(await upload("name=dups", body), 400, "duplicate_ids");
    expect(message).toContain("2 duplicate ids");
    expect(message).toContain("line 3: duplicate id 'x', first used on line 1");
    expect(message).toContain("line 5: duplicate id '4', first used on line 4");
    expect(await names()).not.toContain("dups");
  });

  it("rejects bytes that are not UTF-8", async () => {
    const head = new TextEncoder().encode('{"question": "caf');
    const body = new Uint8Array([...head, 0xe9, ...new TextEncoder().encode('", "answer": "1"}\n')]);
    await expectError(await upload("name=latin1", body), 400, "invalid_encoding");
    expect(await names()).not.toContain("latin1");
  });

  it("rejects malformed JSON", async () => {
    for (const body of [
      '{"question": "q", "answer": "a"}',
      '[{"question": "q", "answer": "a"}',
      '[{"question": "q", "answer": "a"},]',
      "[1] [2]",
    ]) {
      const message = await expectError(await upload("name=malformed", body, "application/json"), 400);
      expect(message).toMatch(/malformed JSON array|row must be a JSON object/);
    }
    const message = await expectError(
      await upload("name=malformed", '[{"question": "q", "answer": tru}]', "application/json"),
      400,
      "invalid_rows",
    );
    expect(message).toContain("item at line 1: not valid JSON");
    await expectError(await upload("name=malformed", '{"question": "q", "answer": "a"'), 400, "invalid_rows");
    expect(await names()).not.toContain("malformed");
  });

  it("rejects an empty upload and an unknown content type", async () => {
    await expectError(await upload("name=empty", ""), 400, "empty_upload");
    await expectError(await upload("name=empty", "\n  \n"), 400, "empty_upload");
    await expectError(await upload("name=empty", "[]", "application/json"), 400, "empty_upload");
    await expectError(await upload("name=empty", "", "application/json"), 400, "empty_upload");
    await expectError(await upload("name=empty", jsonl(rows(1)), "text/csv"), 415);
    await expectError(await upload("name=empty", jsonl(rows(1)), "application/x-www-form-urlencoded"), 415);
    expect(await names()).not.toContain("empty");
  });

  it("rejects SQL-looking and path-traversal names and leaves the data intact", async () => {
    const samplesBefore = await storedSampleCount();
    const before = await names();
    for (const name of ["../etc", "x'; DROP TABLE samples;--", "..", "a/b", "UPPER", "builtin", ""]) {
      await expectError(await upload(`name=${encodeURIComponent(name)}`, jsonl(rows(2))), 400);
      if (name && name !== ".." && name !== "builtin")
        await expectError(await call("GET", `/api/datasets/${encodeURIComponent(name)}`), 404);
    }
    await expectError(await upload("", jsonl(rows(2))), 400);
    await expectError(await call("DELETE", `/api/datasets/${encodeURIComponent("x' OR '1'='1")}`), 404);
    expect(await names()).toEqual(before);
    expect(await storedSampleCount()).toBe(samplesBefore);
  });

  it("answers 409 for a name already taken and keeps the first data set", async () => {
    expect((await upload("name=taken", jsonl(rows(3)))).status).toBe(201);
    const message = await expectError(await upload("name=taken", jsonl(rows(5))), 409, "name_taken");
    expect(message).toContain("'taken'");
    expect((await json<Dataset>(await call("GET", "/api/datasets/taken"))).sampleCount).toBe(3);
  });

  it("answers 413 for a declared content-length over 50 MB", async () => {
    await expectError(
      await upload("name=huge", jsonl(rows(2)), JSONL, { "content-length": String(50 * 1024 * 1024 + 1) }),
      413,
      "payload_too_large",
    );
    expect(await names()).not.toContain("huge");
  });

  it("answers 413 for a streamed body over 50 MB, storing nothing", async () => {
    const samplesBefore = await storedSampleCount();
    // No content-length: 52 MB of valid rows, generated as they are read.
    const line = `${JSON.stringify({ question: "x".repeat(1000), answer: "1" })}\n`;
    const block = new TextEncoder().encode(line.repeat(Math.floor((1024 * 1024) / line.length)));
    const started = Date.now();
    const message = await expectError(await upload("name=huge", repeated(block, 52)), 413, "payload_too_large");
    expect(message).toContain("50 MB");
    console.log(`streamed 413 after ${Date.now() - started} ms`);
    expect(await names()).not.toContain("huge");
    expect(await storedSampleCount()).toBe(samplesBefore);
  });

  it("keeps an upload invisible while it is loading and its name reserved", async () => {
    let push: (text: string) => void = () => undefined;
    let end: () => void = () => undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (text) => controller.enqueue(new TextEncoder().encode(text));
        end = () => controller.close();
      },
    });
    const pending = upload("name=slow", stream);
    push(`${jsonl(rows(15_000))}\n`); // more than one chunk, so some rows are written already
    await new Promise((r) => setTimeout(r, 300));
    expect(await storedSampleCount()).toBeGreaterThan(0);
    expect(await names()).not.toContain("slow");
    await expectError(await call("GET", "/api/datasets/slow"), 404);
    await expectError(await upload("name=slow", jsonl(rows(1))), 409, "name_taken");
    push(jsonl(rows(5, 15_000)));
    end();
    const res = await pending;
    expect(res.status).toBe(201);
    expect((await json<Dataset>(res)).sampleCount).toBe(15_005);
    expect(await names()).toContain("slow");
  });

  it("removes an upload left loading by a dead isolate once it is stale", async () => {
    const d = db(env.DB);
    await d
      .insert(datasets)
      .values({ id: "ds_dead", name: "orphan", source: "upload", state: "loading", createdAt: "2020-01-01T00:00:00.000Z" });
    await d.insert(samples).values({ datasetId: "ds_dead", idx: 0, sampleId: "1", question: "q", answer: "a" });
    expect(await names()).not.toContain("orphan");
    expect((await upload("name=orphan", jsonl(rows(2)))).status).toBe(201);
    expect(await d.select().from(samples).where(eq(samples.datasetId, "ds_dead")).all()).toEqual([]);
  });

  it("uploads 100,000 rows (~48 MB) streamed", async () => {
    const total = 100_000;
    const pad = "p".repeat(440);
    const perBlock = 1000;
    let next = 0;
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (next >= total) return controller.close();
        let text = "";
        for (let i = 0; i < perBlock; i++, next++)
          text += `${JSON.stringify({ id: `s${next}`, question: `Question ${next}: ${pad}`, answer: next, source: "bulk" })}\n`;
        controller.enqueue(encoder.encode(text));
      },
    });
    const started = Date.now();
    const res = await upload("name=bulk", stream);
    const elapsed = Date.now() - started;
    console.log(`100k-row upload: ${elapsed} ms`);
    expect(res.status).toBe(201);
    expect((await json<Dataset>(res)).sampleCount).toBe(total);
    const page = await json<Page>(await call("GET", "/api/datasets/bulk/samples?offset=99999&limit=1000"));
    expect(page.total).toBe(total);
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({ idx: 99_999, id: "s99999", answer: "99999", extras: { source: "bulk" } });
    const del = Date.now();
    expect((await call("DELETE", "/api/datasets/bulk")).status).toBe(200);
    console.log(`100k-row delete: ${Date.now() - del} ms`);
  });
});

describe("delete", () => {
  /** An agent and a run on the data set, written directly (only required columns, so other tables' new columns keep their defaults). */
  async function agentAndRun(datasetId: string, status: "running" | "completed") {
    const d = db(env.DB);
    const agentId = `agt_${status}`;
    await d.run(sql`insert into ${agents} (id, name, upstream_base_url, upstream_model, verifier)
      values (${agentId}, ${`agent-${status}`}, 'sim://local', 'sim', '{"kind":"math"}')`);
    await d.run(
      sql`insert into ${runs} (id, agent_id, dataset_id, params, status) values (${`run_${status}`}, ${agentId}, ${datasetId}, '{}', ${status})`,
    );
    return `run_${status}`;
  }

  it("deletes a data set with its samples", async () => {
    const created = await json<Dataset>(await upload("name=doomed", jsonl(rows(10))));
    const res = await call("DELETE", "/api/datasets/doomed");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ id: created.id, deleted: true });
    await expectError(await call("GET", `/api/datasets/${created.id}`), 404);
    await expectError(await call("GET", "/api/datasets/doomed/samples"), 404);
    expect(await db(env.DB).select().from(samples).where(eq(samples.datasetId, created.id)).all()).toEqual([]);
    await expectError(await call("DELETE", "/api/datasets/doomed"), 404);
  });

  it("answers 409 while a run uses the data set, and for runs that refer to it", async () => {
    const created = await json<Dataset>(await upload("name=in-use", jsonl(rows(4))));
    const runId = await agentAndRun(created.id, "running");
    await expectError(await call("DELETE", "/api/datasets/in-use"), 409, "run_in_progress");
    expect((await json<Dataset>(await call("GET", "/api/datasets/in-use"))).sampleCount).toBe(4);

    await db(env.DB).update(runs).set({ status: "completed" }).where(eq(runs.id, runId));
    await expectError(await call("DELETE", "/api/datasets/in-use"), 409, "dataset_in_use");
    expect((await json<Page>(await call("GET", "/api/datasets/in-use/samples"))).data).toHaveLength(4);

    // Without the checks, D1's foreign key refuses the delete, and the batch leaves the samples in place.
    await expect(deleteDataset(db(env.DB), created.id)).rejects.toThrow();
    expect(await db(env.DB).select().from(samples).where(eq(samples.datasetId, created.id)).all()).toHaveLength(4);
  });
});

describe("OpenAPI", () => {
  it("documents the data set routes", async () => {
    const doc = await json<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> }>(
      await call("GET", "/api/openapi.json"),
    );
    // Paths may or may not carry the /api prefix, depending on how the document is assembled.
    const path = (p: string) => Object.keys(doc.paths).find((k) => k === p || k === `/api${p}`) ?? `(missing ${p})`;
    for (const p of [
      "/datasets",
      "/datasets/builtin",
      "/datasets/builtin/{builtin}",
      "/datasets/{dataset}",
      "/datasets/{dataset}/samples",
    ]) {
      expect(doc.paths).toHaveProperty([path(p)]);
    }
    expect(Object.keys(doc.paths[path("/datasets")]?.post?.requestBody?.content ?? {})).toEqual([
      "application/x-ndjson",
      "application/jsonl",
      "application/json",
    ]);
  });
});

describe("built-in data sets", () => {
  type Builtin = { name: string; description: string; attribution: string; rows: number; loaded: { id: string; name: string } | null };

  it("lists what is available with descriptions and attribution", async () => {
    const { data } = await json<{ data: Builtin[] }>(await call("GET", "/api/datasets/builtin"));
    expect(data.map((b) => b.name)).toEqual([
      "aime24",
      "aime25",
      "dapo-100",
      "gsm8k-test",
      "math500",
      "sim-train",
      "sim-test",
      "sim-tools-train",
      "sim-tools-test",
    ]);
    expect(Object.fromEntries(data.map((b) => [b.name, b.rows]))).toEqual({
      aime24: 30,
      aime25: 30,
      "dapo-100": 100,
      "gsm8k-test": 1319,
      math500: 500,
      "sim-train": 100,
      "sim-test": 300,
      "sim-tools-train": 60,
      "sim-tools-test": 150,
    });
    for (const b of data) {
      expect(b.description.length).toBeGreaterThan(10);
      expect(b.attribution.length).toBeGreaterThan(10);
    }
    expect(data.find((b) => b.name === "gsm8k-test")?.attribution).toContain("MIT");
  });

  it("loads aime24 (30 rows), refuses it twice, and loads it again under another name", async () => {
    const res = await call("POST", "/api/datasets/builtin/aime24");
    expect(res.status).toBe(201);
    const ds = await json<Dataset>(res);
    expect(ds).toMatchObject({ name: "aime24", source: "builtin", sampleCount: 30 });
    expect(ds.attribution).toContain("Qwen2.5-Math");
    const page = await json<Page>(await call("GET", "/api/datasets/aime24/samples?limit=1"));
    expect(page.data[0]).toMatchObject({ idx: 0, id: "aime2024-I-01", answer: "204" });
    expect(page.data[0]?.extras).toMatchObject({ source_id: 60 });

    await expectError(await call("POST", "/api/datasets/builtin/aime24"), 409, "name_taken");
    const copy = await call("POST", "/api/datasets/builtin/aime24?name=aime24-copy");
    expect(copy.status).toBe(201);
    expect((await json<Dataset>(copy)).sampleCount).toBe(30);
    const listed = await json<{ data: Builtin[] }>(await call("GET", "/api/datasets/builtin"));
    expect(listed.data.find((b) => b.name === "aime24")?.loaded).toEqual({ id: ds.id, name: "aime24" });

    await expectError(await call("POST", "/api/datasets/builtin/nope"), 404);
    await expectError(await call("POST", `/api/datasets/builtin/aime24?name=${encodeURIComponent("../x")}`), 400);
  });

  it("loads every built-in with the listed number of rows", async () => {
    const { data } = await json<{ data: Builtin[] }>(await call("GET", "/api/datasets/builtin"));
    for (const b of data) {
      const res = await call("POST", `/api/datasets/builtin/${b.name}?name=all-${b.name}`);
      expect(res.status, b.name).toBe(201);
      expect((await json<Dataset>(res)).sampleCount, b.name).toBe(b.rows);
    }
    const sim = await json<Page>(await call("GET", "/api/datasets/all-sim-train/samples?limit=1"));
    expect(sim.data[0]?.extras).toHaveProperty("pitfalls");
  });
});
