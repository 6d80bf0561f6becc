import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LIBRARY_INTRO, renderLibrary, type Experience } from "../../src/core/library";
import { db } from "../../src/db/client";
import { highestItemNumberEver, insertVersionIfUnchanged, VersionRaceError } from "../../src/db/libraryVersions";
import { simDataset } from "../../src/sim";
import { call, expectErrorShape, json } from "./helpers";
import { SYSTEM, covering, createSimAgent, promotionsOf, uploadSlice, waitForRun, proxyChat } from "./evalHelpers";

/**
 * People own the library (docs/ownership.md): versions made by hand, exported and imported in our
 * format and the reference's, the model each version was learned with, and the warning a promotion
 * onto another model carries. What reaches the upstream is recorded by a spy on fetch
 * ("http://upstream.test"); training runs on the in-process simulated model.
 */

const UPSTREAM = "http://upstream.test/v1";
type Received = { messages: { role: string; content: unknown }[] };
const received: Received[] = [];
const realFetch = globalThis.fetch;

beforeAll(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(UPSTREAM)) return realFetch(input, init);
    received.push((await request.json()) as Received);
    return Response.json({
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1,
      model: "sim-1",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
  });
});
afterAll(() => vi.restoreAllMocks());

type Version = {
  version: number;
  meta: { source: string; author: string | null; model: string | null; note: string; parentVersion: number | null } | null;
  items: Experience[];
  rendered: string;
  warnings?: string[];
};

const count = async (sql: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...binds)
      .first<{ n: number }>()
  )?.n ?? 0;

async function agentId(name: string): Promise<string> {
  return (await json<{ id: string }>(await call("GET", `/api/agents/${name}`))).id;
}

/** Versions and item rows the agent has: both must stay unchanged when a request is refused. */
async function stored(name: string): Promise<{ versions: number; items: number }> {
  const id = await agentId(name);
  return {
    versions: await count("SELECT count(*) AS n FROM library_versions WHERE agent_id = ?", id),
    items: await count("SELECT count(*) AS n FROM library_items WHERE agent_id = ?", id),
  };
}

async function expectRefused(res: Response, status: number, message: RegExp, param?: string): Promise<void> {
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(status);
  expectErrorShape(body);
  expect(body.error.message).toMatch(message);
  if (param !== undefined) expect(body.error.param).toBe(param);
}

const manual = (agent: string, body: unknown) => call("POST", `/api/agents/${agent}/library/versions`, body);
const importFile = (agent: string, file: string, query = "author=bob&reason=copy") =>
  call("POST", `/api/agents/${agent}/library/import?${query}`, file);

async function chatSystem(agent: string, question: string): Promise<string> {
  const { key } = await json<{ key: string }>(await call("POST", `/api/agents/${agent}/keys`, {}));
  const before = received.length;
  const res = await proxyChat(key, question);
  expect(res.status, await res.clone().text()).toBe(200);
  await res.text();
  expect(received.length).toBe(before + 1);
  const system = received[before]?.messages[0];
  expect(system?.role).toBe("system");
  return system?.content as string;
}

describe("versions made by hand", () => {
  it("adds, edits and deletes items of a base version with stable ids, recording who, why and the model", async () => {
    await createSimAgent("hand", { trainingDefaults: { maxExperiences: 4, maxWordsPerExperience: 20 } });
    const first = await manual("hand", {
      base: 0,
      operations: [
        { op: "add", name: "Inclusive ranges", text: "When counting integers from a to b inclusive, the count is b minus a plus one." },
        { op: "add", text: "Units: an hour is sixty minutes, so multiply hours by sixty." },
      ],
      author: "alice",
      reason: "seed the library with what we know",
    });
    const v1 = await json<Version>(first);
    expect(first.status, JSON.stringify(v1)).toBe(201);
    expect(v1.version).toBe(1);
    expect(v1.meta).toMatchObject({ source: "manual", author: "alice", model: "sim-1", parentVersion: null });
    expect(v1.meta?.note).toBe(
      "edited by hand from the empty library by alice (2 added, 0 edited, 0 deleted): seed the library with what we know",
    );
    expect(v1.items.map((i) => [i.id, i.name])).toEqual([
      ["E1", "Inclusive ranges"],
      ["E2", "Units"],
    ]);
    expect(v1.items[0]?.provenance).toEqual([
      { runId: null, epoch: null, batch: null, op: "ADD", source: "manual", author: "alice", reason: "seed the library with what we know" },
    ]);
    expect(v1.warnings).toEqual([]);

    const second = await json<Version>(
      await manual("hand", {
        base: 1,
        operations: [
          { op: "edit", id: "E2", text: "an hour is 60 minutes and a km is 1000 m." },
          { op: "delete", id: "E1" },
          { op: "add", name: "Remainders", text: "A remainder is never negative: add the modulus." },
        ],
        author: "bob",
        reason: "E1 was wrong for open ranges",
      }),
    );
    expect(second.version).toBe(2);
    expect(second.meta).toMatchObject({ parentVersion: 1, author: "bob" });
    // E1 is gone and never reused: the new item takes E3.
    expect(second.items.map((i) => i.id)).toEqual(["E2", "E3"]);
    expect(second.items[0]?.provenance.map((p) => [p.op, p.author])).toEqual([
      ["ADD", "alice"],
      ["UPDATE", "bob"],
    ]);
    const diff = await json<{ added: Experience[]; updated: { id: string }[]; deleted: Experience[] }>(
      await call("GET", "/api/agents/hand/library/diff?from=1&to=2"),
    );
    expect([diff.added.map((i) => i.id), diff.updated.map((i) => i.id), diff.deleted.map((i) => i.id)]).toEqual([["E3"], ["E2"], ["E1"]]);
    const list = await json<{ data: { version: number; source: string; author: string | null }[] }>(
      await call("GET", "/api/agents/hand/library/versions"),
    );
    expect(list.data.map((v) => [v.version, v.source, v.author])).toEqual([
      [2, "manual", "bob"],
      [1, "manual", "alice"],
    ]);
    // A new version does not serve until promoted.
    expect((await json<{ activeVersion: number | null }>(await call("GET", "/api/agents/hand"))).activeVersion).toBeNull();
  });

  it("refuses bad operations with 400 naming the first problem, and stores nothing", async () => {
    const before = await stored("hand");
    const op = (operations: unknown) => manual("hand", { base: 2, operations, author: "eve", reason: "test" });
    await expectRefused(
      await op([{ op: "edit", id: "E1", text: "x" }]),
      400,
      /operations\[0\] \(edit E1\): unknown id E1 \(the base version has E2, E3\)/,
      "operations.0.id",
    );
    await expectRefused(
      await op([
        { op: "add", text: "fine text" },
        { op: "add", name: "n", text: "   " },
      ]),
      400,
      /operations\[1\] \(add\): text is empty; nothing was stored/,
      "operations.1.text",
    );
    await expectRefused(await op([{ op: "add", name: "n", text: "word ".repeat(21) }]), 400, /21 words > the agent's cap of 20/);
    await expectRefused(
      await op([
        { op: "add", text: "a b" },
        { op: "add", text: "c d" },
        { op: "add", text: "e f" },
      ]),
      400,
      /would hold 5 items > the agent's cap of 4 \(maxExperiences\)/,
    );
    await expectRefused(await op([{ op: "edit", id: "E2" }]), 400, /an edit gives a new name, a new text, or both/);
    await expectRefused(await op([{ op: "rename", id: "E2" }]), 400, /invalid json/);
    await expectRefused(await op([]), 400, /operations/);
    await expectRefused(await manual("hand", { base: 2, operations: [{ op: "delete", id: "E2" }], reason: "no author" }), 400, /author/);
    await expectRefused(
      await manual("hand", { base: 9, operations: [{ op: "delete", id: "E2" }], author: "a", reason: "r" }),
      404,
      /library version '9' not found/,
    );
    await expectRefused(
      await manual("nobody", { base: 0, operations: [{ op: "add", text: "x y" }], author: "a", reason: "r" }),
      404,
      /agent 'nobody'/,
    );
    expect(await stored("hand")).toEqual(before);
  });
});

describe("a version written while the library moves on", () => {
  it("is written whole or not at all: new item ids or a taken version number since it was read fail the batch", async () => {
    await createSimAgent("racer");
    const v1 = await json<Version>(
      await manual("racer", { base: 0, operations: [{ op: "add", text: "Units: an hour is 60 minutes." }], author: "a", reason: "r" }),
    );
    expect(v1.version).toBe(1);
    const d = db(env.DB);
    const agent = await agentId("racer");
    const highest = await highestItemNumberEver(d, agent);
    const items: Experience[] = [{ id: "E2", name: "Posts", text: "Add one post for the far end.", provenance: [] }];
    const version = { agentId: agent, parentVersion: 1, runId: null, originKey: "race", note: "race", source: "manual" as const };
    const before = await stored("racer");
    // Read before a run issued E1: the batch refuses, nothing of it is left.
    await expect(insertVersionIfUnchanged(d, { ...version, version: 2 }, items, highest - 1)).rejects.toBeInstanceOf(VersionRaceError);
    // A version number taken meanwhile.
    await expect(insertVersionIfUnchanged(d, { ...version, version: 1 }, items, highest)).rejects.toBeInstanceOf(VersionRaceError);
    expect(await stored("racer")).toEqual(before);
    await insertVersionIfUnchanged(d, { ...version, version: 2 }, items, highest);
    expect(await stored("racer")).toEqual({ versions: before.versions + 1, items: before.items + 1 });
  });
});

describe("export and import", () => {
  it("exports our format with provenance and the model, and the reference's id → text map", async () => {
    const native = await call("GET", "/api/agents/hand/library/2/export");
    expect(native.status).toBe(200);
    expect(native.headers.get("content-disposition")).toBe('attachment; filename="hand-v2.native.json"');
    const file = await json<Record<string, unknown>>(native);
    expect(file).toMatchObject({ format: "tfgrpo-library", formatVersion: 1, agent: "hand", version: 2, source: "manual", model: "sim-1" });
    expect((file.items as Experience[]).map((i) => i.id)).toEqual(["E2", "E3"]);
    const reference = await json<Record<string, string>>(await call("GET", "/api/agents/hand/library/2/export?format=reference"));
    expect(reference).toEqual({
      E2: "Units: an hour is 60 minutes and a km is 1000 m.",
      E3: "Remainders: A remainder is never negative: add the modulus.",
    });
    await expectRefused(await call("GET", "/api/agents/hand/library/7/export"), 404, /library version '7'/);
    await expectRefused(await call("GET", "/api/agents/hand/library/2/export?format=yaml"), 400, /format/);
  });

  it("imports either format into another agent as a new version with provenance 'imported'", async () => {
    await createSimAgent("copy", { trainingDefaults: { maxExperiences: 4, maxWordsPerExperience: 20 } });
    const native = await (await call("GET", "/api/agents/hand/library/2/export")).text();
    const res = await importFile("copy", native, "author=bob&reason=copy%20from%20hand");
    const v1 = await json<Version>(res);
    expect(res.status, JSON.stringify(v1)).toBe(201);
    expect(v1.meta).toMatchObject({ source: "imported", author: "bob", model: "sim-1", parentVersion: null });
    expect(v1.meta?.note).toBe("imported (native format, 2 items) by bob: copy from hand");
    const original = await json<Version>(await call("GET", "/api/agents/hand/library/versions/2"));
    expect(v1.rendered).toBe(original.rendered);
    expect(v1.items.map((i) => i.id)).toEqual(["E2", "E3"]);
    expect(v1.items[0]?.provenance.at(-1)).toEqual({
      runId: null,
      epoch: null,
      batch: null,
      op: "IMPORT",
      source: "imported",
      author: "bob",
      reason: "copy from hand",
    });

    // The reference's own ids ("0", "1", …) get new ones past every id the agent used, in file order.
    // Written as text: JSON.stringify would put the key "0" first.
    const ref = '{"1": "When counting posts along a fence, add one post for the far end.", "0": "Products first: multiply before adding."}';
    const v2 = await json<Version>(await importFile("copy", ref, "author=carol&reason=from%20the%20paper%27s%20code&format=reference"));
    expect(v2.version).toBe(2);
    expect(v2.items.map((i) => [i.id, i.name, i.provenance[0]?.importedId])).toEqual([
      ["E4", "When counting posts along a fence", "1"],
      ["E5", "Products first", "0"],
    ]);
    expect(v2.rendered).toBe(
      `${LIBRARY_INTRO}\n[E4] When counting posts along a fence: When counting posts along a fence, add one post for the far end.\n[E5] Products first: multiply before adding.`,
    );
  });

  it("refuses a bad file with 400 naming the first problem, and stores nothing", async () => {
    const before = await stored("copy");
    const entries = (n: number) =>
      JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `Item number ${i}.`])));
    await expectRefused(await importFile("copy", '{"0": "a b",'), 400, /the file is not valid JSON: .*nothing was stored/);
    await expectRefused(await importFile("copy", '{"0": "first", "1": "second", "0": "again"}'), 400, /duplicate id "0"/);
    await expectRefused(await importFile("copy", '{"0": "fine", "1": ""}'), 400, /item "1": text is empty/);
    await expectRefused(
      await importFile("copy", JSON.stringify({ "0": "word ".repeat(21) })),
      400,
      /item "0": text has 21 words > the agent's cap of 20/,
    );
    await expectRefused(await importFile("copy", JSON.stringify({ "0": `${"x".repeat(801)}` })), 400, /801 characters > 800/);
    await expectRefused(await importFile("copy", entries(5)), 400, /the file holds 5 items > the agent's cap of 4/);
    await expectRefused(await importFile("copy", "[1, 2]"), 400, /not a library file/);
    await expectRefused(
      await importFile("copy", '{"format": "tfgrpo-library", "formatVersion": 1, "items": [{"id": "3", "name": "n", "text": "t"}]}'),
      400,
      /items\[0\]\.id: expected an item id like E3/,
    );
    await expectRefused(await importFile("copy", entries(2), "reason=no%20author"), 400, /author/);
    // Bounded before parsing: a body over the admin limit is refused by its size.
    const huge = JSON.stringify({ "0": "x".repeat(1024 * 1024) });
    await expectRefused(await importFile("copy", huge), 413, /larger than 1048576 bytes/);
    expect(await stored("copy")).toEqual(before);
  });
});

describe("the model a version was learned with", () => {
  it(
    "is recorded by runs, and promoting onto an agent that serves another model warns, on the response and the record",
    async () => {
      await uploadSlice("own-train", "sim-train", 0, 20);
      await createSimAgent("learned");
      const { id } = await json<{ id: string }>(
        await call("POST", "/api/runs", {
          agent: "learned",
          dataset: "own-train",
          epochs: 1,
          groupSize: 4,
          seed: 3,
          maxGroupsInFlight: 40,
        }),
      );
      const run = await waitForRun(id);
      expect(run.status).toBe("completed");
      expect(run.latestVersion).toBeGreaterThan(0);
      const trained = await json<Version>(await call("GET", `/api/agents/learned/library/versions/${run.latestVersion}`));
      expect(trained.meta).toMatchObject({ source: "learned", model: "sim-1", author: null });

      // The agent now serves another model: the promotion goes ahead, and says what it went ahead despite.
      await call("PATCH", "/api/agents/learned", { upstream: { model: "sim-2" } });
      const promoted = await json<{ decision: string; warnings: string[] }>(
        await call("POST", "/api/agents/learned/promote", { version: run.latestVersion }),
      );
      expect(promoted.decision).toBe("promoted");
      expect(promoted.warnings).toEqual([
        `version ${run.latestVersion} was learned with model 'sim-1' but the agent serves 'sim-2'; experiences often do not transfer across models, so evaluate it on this model before relying on it`,
      ]);
      expect((await promotionsOf("learned")).data[0]).toMatchObject({ warnings: promoted.warnings });
      // Back on the model it was learned with: no warning; no library: none either.
      await call("PATCH", "/api/agents/learned", { upstream: { model: "sim-1" } });
      expect(
        (await json<{ warnings: string[] }>(await call("POST", "/api/agents/learned/promote", { version: run.latestVersion }))).warnings,
      ).toEqual([]);
      expect((await json<{ warnings: string[] }>(await call("POST", "/api/agents/learned/promote", { version: 0 }))).warnings).toEqual([]);

      // An import names its model: from the file, from ?model=, else the agent's.
      const file = JSON.parse(await (await call("GET", `/api/agents/learned/library/${run.latestVersion}/export`)).text()) as Record<
        string,
        unknown
      >;
      const elsewhere = await json<Version>(await importFile("learned", JSON.stringify({ ...file, model: "deepseek-chat" })));
      expect(elsewhere.meta?.model).toBe("deepseek-chat");
      expect(elsewhere.warnings?.[0]).toMatch(/learned with model 'deepseek-chat' but the agent serves 'sim-1'/);
      const given = await json<Version>(
        await importFile("hand", JSON.stringify({ "0": "Units: an hour is 60 minutes." }), "author=a&reason=r&model=gpt-x"),
      );
      expect(given.meta?.model).toBe("gpt-x");
      const gate = await json<{ warnings: string[] }>(await call("POST", "/api/agents/hand/promote", { version: given.version }));
      expect(gate.warnings[0]).toMatch(/'gpt-x'/);
    },
    covering(1),
  );
});

describe("round trip", () => {
  it("a trained version exported and imported into another agent is served byte for byte as the original", async () => {
    const versions = await json<{ data: { version: number; source: string }[] }>(await call("GET", "/api/agents/learned/library/versions"));
    const trained = versions.data.find((v) => v.source === "learned")!.version;
    const file = await (await call("GET", `/api/agents/learned/library/${trained}/export`)).text();
    await createSimAgent("twin");
    const imported = await json<Version>(await importFile("twin", file));
    expect(imported.meta?.source).toBe("imported");
    // Both agents serve through the recording upstream, each its own copy of the library.
    for (const [agent, version] of [
      ["learned", trained],
      ["twin", imported.version],
    ] as const) {
      expect((await call("PATCH", `/api/agents/${agent}`, { upstream: { baseUrl: UPSTREAM } })).status).toBe(200);
      expect((await call("POST", `/api/agents/${agent}/promote`, { version })).status).toBe(200);
    }
    const question = simDataset("sim-test")[0]!.question;
    const original = await chatSystem("learned", question);
    const copy = await chatSystem("twin", question);
    expect(copy).toBe(original);
    const { rendered } = await json<Version>(await call("GET", `/api/agents/learned/library/versions/${trained}`));
    expect(rendered.length).toBeGreaterThan(LIBRARY_INTRO.length);
    expect(original).toBe(`${SYSTEM}\n\n${rendered}`);
  });

  it("a reference-format file imports and serves", async () => {
    await createSimAgent("paper", { upstream: { baseUrl: UPSTREAM, model: "sim-1" } });
    const reference = {
      "0": "When counting the integers in a closed range, include both endpoints: the count is last minus first plus one.",
      "1": "When an expression mixes addition and multiplication, multiply first.",
    };
    const v = await json<Version>(await importFile("paper", JSON.stringify(reference), "author=a&reason=from%20experiences.json"));
    expect((await call("POST", "/api/agents/paper/promote", { version: v.version })).status).toBe(200);
    const system = await chatSystem("paper", "How many integers from 3 to 9?");
    expect(system).toBe(
      `${SYSTEM}\n\n${renderLibrary([
        { id: "E1", name: "When counting the integers in a", text: reference["0"] },
        { id: "E2", name: "When an expression mixes addition and", text: reference["1"] },
      ])}`,
    );
  });
});
