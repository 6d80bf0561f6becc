import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { callLlm, preloadCalls, type CallContext } from "../../src/calls/llmCall";
import { ok } from "../../src/core/result";
import { runScheduled } from "../../src/cron/scheduled";
import { db } from "../../src/db/client";
import { callReply, findCall, storeCall } from "../../src/db/llmCalls";
import { applyRetention } from "../../src/db/lifecycle";
import {
  DEFAULT_TEXT_INLINE_MAX_BYTES,
  agentTextPrefix,
  ownerTextPrefix,
  readText,
  StoredTextError,
  storeText,
  textInlineMax,
  textReader,
  textUsage,
  textWriter,
  type TextRef,
} from "../../src/db/texts";
import { sweepTexts, TEXT_SWEEP_GRACE_MS } from "../../src/db/textSweeps";
import { claimToolCall, findToolResult, finishToolCall, toolOutput } from "../../src/db/toolResults";
import { insertRollouts, recordGroup, setRolloutSummaries } from "../../src/db/training";
import { DEFAULT_RETRY, type UpstreamFetch } from "../../src/llm/client";
import { STAGE_HEADINGS } from "../../src/core/prompts";
import { loadRunContext } from "../../src/training/context";
import { runLaneGroup } from "../../src/training/lane";
import { createSimAgent, uploadSlice, waitForEvaluation, waitForRun } from "./evalHelpers";
import { call, expectErrorShape, json } from "./helpers";

/**
 * Bulky text out of D1 (docs/architecture.md §11). The workers configuration sets TEXT_INLINE_MAX_BYTES
 * to 256, so that texts of simulated runs go both ways; these tests check each side, the one read
 * function, crashes between the R2 and the D1 write, and that deletion and retention reach R2.
 */

const INLINE_MAX = 256;
const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;
const count = async (query: string, ...binds: unknown[]) => (await rows<{ n: number }>(query, ...binds))[0]?.n ?? 0;
const objectsUnder = async (prefix: string) => (await textUsage(env.TEXTS, prefix)).objects;
const utf8 = (s: string) => new TextEncoder().encode(s).length;
async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A reasoning-model-sized reply (~11 KB, multi-byte characters so bytes ≠ characters). */
const LONG = `${"Let me think: ∑ of the terms, step by step. ".repeat(250)}So the answer is \\boxed{42}.`;
const SHORT = "\\boxed{7}";

/** An upstream answering every request with `reply(n)` (n counts from 1), counting requests. */
function upstream(reply: (n: number) => string) {
  const state = { requests: 0 };
  const send: UpstreamFetch = async () => {
    state.requests++;
    return Response.json({
      choices: [{ message: { content: reply(state.requests) } }],
      usage: { prompt_tokens: 9, completion_tokens: 99 },
    });
  };
  return { send, state };
}

/** A call context as a step builds it: a fresh text writer (nothing read or written yet). */
function context(ownerId: string, send: UpstreamFetch, d1: D1Database = env.DB): CallContext {
  return {
    d: db(d1),
    ownerId,
    texts: textWriter(env, { agentId: "ag_texts", ownerId }),
    send,
    model: "m",
    retry: { ...DEFAULT_RETRY, maxAttempts: 1 },
  };
}

const spec = (key: string) => ({
  key,
  stage: "rollout",
  messages: [{ role: "user" as const, content: "q" }],
  temperature: 0,
  seed: 1,
  parse: (text: string) => ok(text),
});

type CallRow = { response: string | null; response_ref: string | null };
const storedCall = async (owner: string, key: string) =>
  (await rows<CallRow>("select response, response_ref from llm_calls where owner_id = ? and call_key = ?", owner, key))[0];

/** D1 whose first statement matching `pattern` throws, as if the isolate died right before it. */
function crashingBefore(pattern: RegExp): D1Database {
  let armed = true;
  return new Proxy(env.DB, {
    get(target, prop, receiver) {
      if (prop === "prepare")
        return (query: string) => {
          if (armed && pattern.test(query)) {
            armed = false;
            throw new Error("isolate killed between the R2 write and the D1 write");
          }
          return target.prepare(query);
        };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("the inline threshold", () => {
  it("is TEXT_INLINE_MAX_BYTES, a non-negative integer, else the default", () => {
    expect(textInlineMax(env)).toBe(INLINE_MAX);
    expect(textInlineMax({ ...env, TEXT_INLINE_MAX_BYTES: "0" })).toBe(0);
    for (const bad of ["", "-1", "4.5", "4KB"])
      expect(textInlineMax({ ...env, TEXT_INLINE_MAX_BYTES: bad }), bad).toBe(DEFAULT_TEXT_INLINE_MAX_BYTES);
  });
});

describe("an LLM call's reply", () => {
  it("lands in R2 when long (D1 keeps the key, size and hash) and stays inline when short; a replay reads both back without a request", async () => {
    const owner = "run_replies";
    const model = upstream((n) => (n === 1 ? LONG : SHORT));
    const ctx = context(owner, model.send);
    expect(await callLlm(ctx, spec("e1/s0/r0/rollout"))).toEqual(ok(LONG));
    expect(await callLlm(ctx, spec("e1/s0/r1/rollout"))).toEqual(ok(SHORT));

    const long = await storedCall(owner, "e1/s0/r0/rollout");
    expect(long?.response).toBeNull();
    const ref = JSON.parse(long?.response_ref ?? "null") as TextRef;
    expect(ref.bytes).toBe(utf8(LONG));
    expect(ref.bytes).toBeGreaterThan(LONG.length);
    expect(ref.sha256).toBe(await sha256(LONG));
    expect(ref.key).toBe(`agent/ag_texts/owner/${owner}/call/e1/s0/r0/rollout/${ref.sha256.slice(0, 16)}`);
    expect(await (await env.TEXTS.get(ref.key))?.text()).toBe(LONG);

    const short = await storedCall(owner, "e1/s0/r1/rollout");
    expect(short).toEqual({ response: SHORT, response_ref: null });
    expect(await textUsage(env.TEXTS, ownerTextPrefix("ag_texts", owner))).toEqual({ objects: 1, bytes: utf8(LONG), complete: true });

    // A replayed step (a new context: nothing cached) pays for nothing, one key at a time or preloaded.
    const replay = upstream(() => {
      throw new Error("a stored call was requested again");
    });
    const again = context(owner, replay.send);
    expect(await callLlm(again, spec("e1/s0/r0/rollout"))).toEqual(ok(LONG));
    expect(await callLlm(again, spec("e1/s0/r1/rollout"))).toEqual(ok(SHORT));
    const preloaded = await preloadCalls(context(owner, replay.send), "e1/");
    expect(await callLlm(preloaded, spec("e1/s0/r0/rollout"))).toEqual(ok(LONG));
    expect(replay.state.requests).toBe(0);
    expect(model.state.requests).toBe(2);
  });

  it("a retried step after a crash between the R2 write and the D1 write stores one object, one row, and pays once more only for the lost reply", async () => {
    const owner = "run_crash";
    const prefix = ownerTextPrefix("ag_texts", owner);
    const model = upstream(() => LONG);
    const crashed = context(owner, model.send, crashingBefore(/insert into "llm_calls"/i));
    await expect(callLlm(crashed, spec("e1/s3/r0/rollout"))).rejects.toThrow(/isolate killed/);
    // The object is there, no row refers to it yet.
    expect(await objectsUnder(prefix)).toBe(1);
    expect(await storedCall(owner, "e1/s3/r0/rollout")).toBeUndefined();

    // The retried step asks again (the reply was lost with the isolate) and overwrites the same object.
    expect(await callLlm(context(owner, model.send), spec("e1/s3/r0/rollout"))).toEqual(ok(LONG));
    expect(model.state.requests).toBe(2);
    const keys = (await env.TEXTS.list({ prefix })).objects.map((o) => o.key);
    expect(keys).toHaveLength(1);
    const ref = JSON.parse((await storedCall(owner, "e1/s3/r0/rollout"))?.response_ref ?? "null") as TextRef;
    expect(ref.key).toBe(keys[0]);

    // And the next replay pays nothing.
    expect(await callLlm(context(owner, model.send), spec("e1/s3/r0/rollout"))).toEqual(ok(LONG));
    expect(model.state.requests).toBe(2);
  });

  it("when the retried request gets another reply, the row refers to that one and the lost one's object is swept with the prefix", async () => {
    const owner = "run_crash_other";
    const prefix = ownerTextPrefix("ag_texts", owner);
    const model = upstream((n) => `${LONG} (reply ${n})`);
    await expect(callLlm(context(owner, model.send, crashingBefore(/insert into "llm_calls"/i)), spec("e1/s0/r0/rollout"))).rejects.toThrow(
      /isolate killed/,
    );
    expect(await callLlm(context(owner, model.send), spec("e1/s0/r0/rollout"))).toEqual(ok(`${LONG} (reply 2)`));
    expect(await objectsUnder(prefix)).toBe(2);
    const row = await findCall(db(env.DB), owner, "e1/s0/r0/rollout");
    expect(await callReply(textReader(env), row!)).toBe(`${LONG} (reply 2)`);

    await env.DB.prepare("insert into text_sweeps (prefix, reason) values (?, 'test')").bind(prefix).run();
    const report = await sweepTexts(db(env.DB), env.TEXTS, Date.now(), 1000, [prefix]);
    expect(report.objects).toBe(2);
    expect(await objectsUnder(prefix)).toBe(0);
  });

  it("a concurrent duplicate that loses the D1 write (first writer wins) leaves the winner's object as it was", async () => {
    const owner = "run_duplicate";
    const winner = upstream(() => `${LONG} (winner)`);
    expect(await callLlm(context(owner, winner.send), spec("e1/s0/r0/rollout"))).toEqual(ok(`${LONG} (winner)`));
    // The duplicate asked before the winner stored, got another reply, and stores after it.
    const loser = context(owner, winner.send);
    await storeCall(loser.d, loser.texts, {
      ownerId: owner,
      callKey: "e1/s0/r0/rollout",
      stage: "rollout",
      attempts: 1,
      promptTokens: 1,
      completionTokens: 1,
      cachedTokens: 0,
      response: `${LONG} (loser)`,
      error: null,
    });
    const row = await findCall(db(env.DB), owner, "e1/s0/r0/rollout");
    expect(await callReply(textReader(env), row!)).toBe(`${LONG} (winner)`);
  });

  it("rows written before R2 existed (inline text, no reference) are read as before", async () => {
    await env.DB.prepare(
      "insert into llm_calls (owner_id, call_key, stage, attempts, prompt_tokens, completion_tokens, cached_tokens, response) values ('run_legacy', 'e1/s0/r0/rollout', 'rollout', 1, 1, 1, 0, ?)",
    )
      .bind(LONG)
      .run();
    const model = upstream(() => "not this");
    expect(await callLlm(context("run_legacy", model.send), spec("e1/s0/r0/rollout"))).toEqual(ok(LONG));
    expect(model.state.requests).toBe(0);
  });
});

describe("a tool result", () => {
  it("goes to R2 when long and reads back whole", async () => {
    const d = db(env.DB);
    const texts = textWriter(env, { agentId: "ag_texts", ownerId: "run_tools" });
    const output = JSON.stringify({ result: "x".repeat(2000), logs: ["∑"], error: null });
    for (const [key, text] of [
      ["e1/s0/r0/t0/c0", output],
      ["e1/s0/r0/t0/c1", '{"result":1}'],
    ] as const) {
      expect(await claimToolCall(d, { ownerId: "run_tools", callKey: key, tool: "execute_code" })).toBe(true);
      await finishToolCall(d, texts, { ownerId: "run_tools", callKey: key, output: text, isError: false, durationMs: 1 });
      const row = await findToolResult(d, "run_tools", key);
      expect(row?.outputInline === null).toBe(text === output);
      expect(await toolOutput(textReader(env), row!)).toBe(text);
    }
  });
});

describe("reading a stored text", () => {
  it("refuses an object that is missing or altered instead of returning a wrong or empty text", async () => {
    const w = textWriter(env, { agentId: "ag_texts", ownerId: "run_tamper" });
    const stored = await storeText(w, "call/x", LONG);
    const ref = stored.ref!;
    expect(await readText(textReader(env), stored)).toBe(LONG);
    await env.TEXTS.put(ref.key, LONG.replace("42", "43"));
    await expect(readText(textReader(env), stored)).rejects.toThrow(StoredTextError);
    await expect(readText(textReader(env), stored)).rejects.toThrow(/does not match its recorded size and hash/);
    await env.TEXTS.delete(ref.key);
    await expect(readText(textReader(env), stored)).rejects.toThrow(/is missing from R2/);
  });
});

describe("the rollouts and groups API", () => {
  let agentId = "";
  let datasetId = "";
  beforeAll(async () => {
    await createSimAgent("texts-agent");
    await uploadSlice("texts-set", "sim-train", 0, 6);
    agentId = (await json<{ id: string }>(await call("GET", "/api/agents/texts-agent"))).id;
    datasetId = (await rows<{ id: string }>("select id from datasets where name = 'texts-set'"))[0]!.id;
  });

  it("returns the same texts whether they were stored inline or in R2", async () => {
    const trajectory = [
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "execute_code", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: `∑ ${"7".repeat(900)}` },
      { role: "assistant", content: SHORT },
    ];
    const write = async (runId: string, inlineMax: number) => {
      await env.DB.prepare("insert into runs (id, agent_id, dataset_id, params, status) values (?, ?, ?, '{}', 'completed')")
        .bind(runId, agentId, datasetId)
        .run();
      const d = db(env.DB);
      const texts = { ...textWriter(env, { agentId, ownerId: runId }), inlineMax };
      const base = { runId, epoch: 1, batch: 0, sampleIdx: 2, promptVersion: 0, toolCalls: 0 };
      await insertRollouts(d, texts, [
        { ...base, rolloutIdx: 0, response: LONG, reward: 1, critique: `judge: ${"fine. ".repeat(80)}`, messages: null },
        { ...base, rolloutIdx: 1, response: SHORT, reward: 0, critique: null, messages: trajectory, toolCalls: 1 },
      ]);
      await setRolloutSummaries(d, texts, { runId, epoch: 1, sampleIdx: 2 }, [
        { rolloutIdx: 0, summary: `Summary: ${"it worked ".repeat(60)}` },
        { rolloutIdx: 1, summary: "short" },
      ]);
      await recordGroup(d, texts, {
        runId,
        epoch: 1,
        batch: 0,
        sampleIdx: 2,
        status: "kept",
        meanReward: 0.5,
        passed: true,
        advantage: `Advantage: ${"the first attempt checked its work ".repeat(30)}`,
        experiences: [{ name: "check", text: "Check the work." }],
        operations: [],
      });
    };
    await write("run_inline", Number.MAX_SAFE_INTEGER);
    await write("run_in_r2", 0);

    const refs = async (runId: string) =>
      rows<Record<string, string | null>>(
        "select response, response_ref, critique_ref, summary_ref, messages, messages_ref from rollouts where run_id = ? order by rollout_idx",
        runId,
      );
    for (const r of await refs("run_inline"))
      expect([r.response_ref, r.critique_ref, r.summary_ref, r.messages_ref]).toEqual([null, null, null, null]);
    const inR2 = await refs("run_in_r2");
    expect(inR2.map((r) => r.response)).toEqual(["", ""]);
    expect(inR2[0]?.response_ref).not.toBeNull();
    expect(inR2[1]?.messages).toBeNull();
    expect(JSON.parse(inR2[1]?.messages_ref ?? "null")).toMatchObject({ bytes: utf8(JSON.stringify(trajectory)) });
    expect(
      await count("select count(*) as n from groups where run_id = 'run_in_r2' and advantage is null and advantage_ref is not null"),
    ).toBe(1);

    const get = async (path: string) => {
      const res = await call("GET", path);
      expect(res.status, await res.clone().text()).toBe(200);
      return (await json<{ data: Record<string, unknown>[] }>(res)).data.map(({ runId: _, ...rest }) => rest);
    };
    const inline = await get("/api/runs/run_inline/rollouts");
    expect(inline).toHaveLength(2);
    expect(inline[0]?.response).toBe(LONG);
    expect(inline[1]?.messages).toEqual(trajectory);
    expect(await get("/api/runs/run_in_r2/rollouts")).toEqual(inline);
    const groups = await get("/api/runs/run_inline/groups");
    expect(String(groups[0]?.advantage)).toMatch(/^Advantage: the first attempt/);
    expect(await get("/api/runs/run_in_r2/groups")).toEqual(groups);

    // A reference whose object is gone is an error, never an empty text.
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const lost = JSON.parse(inR2[0]?.response_ref ?? "null") as TextRef;
    await env.TEXTS.delete(lost.key);
    const res = await call("GET", "/api/runs/run_in_r2/rollouts");
    errors.mockRestore();
    expect(res.status).toBe(500);
    expectErrorShape(await res.json());
  });

  it("a simulated run stores part of its texts in R2, shares a reply between a call and its rollout, and reads each back as written", async () => {
    const res = await call("POST", "/api/runs", {
      agent: "texts-agent",
      dataset: "texts-set",
      epochs: 1,
      groupSize: 3,
      batchSize: 3,
      seed: 4,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const run = await waitForRun((await json<{ id: string }>(res)).id);
    expect(run.status).toBe("completed");
    const calls = await rows<{ call_key: string; response: string | null; response_ref: string | null }>(
      "select call_key, response, response_ref from llm_calls where owner_id = ?",
      run.id,
    );
    const inR2 = calls.filter((c) => c.response_ref !== null);
    expect(inR2.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.response !== null).length).toBeGreaterThan(0);
    for (const c of inR2) expect(c.response).toBeNull();

    const texts = textReader(env);
    const d = db(env.DB);
    const rollouts = (
      await json<{ data: { epoch: number; sampleIdx: number; rolloutIdx: number; response: string }[] }>(
        await call("GET", `/api/runs/${run.id}/rollouts?limit=500`),
      )
    ).data;
    expect(rollouts).toHaveLength(6 * 3);
    for (const r of rollouts) {
      const key = `e${r.epoch}/s${r.sampleIdx}/r${r.rolloutIdx}/rollout`;
      expect(r.response, key).toBe(await callReply(texts, (await findCall(d, run.id, key))!));
    }
    // A rollout's reply in R2 is its call's object, not a copy.
    const shared = await rows<{ rollout: string; call: string }>(
      `select json_extract(r.response_ref, '$.key') as rollout, json_extract(c.response_ref, '$.key') as call from rollouts r
         join llm_calls c on c.owner_id = r.run_id and c.call_key = 'e' || r.epoch || '/s' || r.sample_idx || '/r' || r.rollout_idx || '/rollout'
         where r.run_id = ? and r.response_ref is not null`,
      run.id,
    );
    expect(shared.length).toBeGreaterThan(0);
    for (const s of shared) expect(s.rollout).toBe(s.call);

    // R2 holds exactly the objects D1 refers to, and the storage route reports them.
    const referredRefs = new Map<string, number>();
    for (const [table, owner, column] of [
      ["llm_calls", "owner_id", "response_ref"],
      ["rollouts", "run_id", "response_ref"],
      ["rollouts", "run_id", "critique_ref"],
      ["rollouts", "run_id", "summary_ref"],
      ["rollouts", "run_id", "messages_ref"],
      ["groups", "run_id", "advantage_ref"],
    ])
      for (const r of await rows<{ ref: string }>(
        `select ${column} as ref from ${table} where ${owner} = ? and ${column} is not null`,
        run.id,
      )) {
        const ref = JSON.parse(r.ref) as TextRef;
        referredRefs.set(ref.key, ref.bytes);
      }
    const referred = [...referredRefs].map(([key, bytes]) => ({ key, bytes }));
    const prefix = ownerTextPrefix((await json<{ id: string }>(await call("GET", "/api/agents/texts-agent"))).id, run.id);
    const listed = (await env.TEXTS.list({ prefix })).objects.map((o) => o.key).sort();
    expect(listed).toEqual(referred.map((r) => r.key).sort());
    const storage = await json<{
      r2: { objects: number; bytes: number; prefix: string };
      d1: { textRefs: number; inlineTextBytes: number };
    }>(await call("GET", `/api/runs/${run.id}/storage`));
    expect(storage.r2).toMatchObject({ prefix, objects: listed.length });
    expect(storage.d1.textRefs).toBeGreaterThan(listed.length);
    expect(storage.d1.inlineTextBytes).toBeGreaterThan(0);
    const referredBytes = referred.reduce((n, r) => n + r.bytes, 0);
    console.log(
      `a 6-sample run (G=3) at ${INLINE_MAX} B: ${storage.d1.inlineTextBytes} B of text inline in D1; ${storage.d1.textRefs} references to ` +
        `${storage.r2.objects} objects, ${storage.r2.bytes} B in R2 (each reply stored once: ${calls.length} calls, ${rollouts.length} rollouts)`,
    );
    expect(storage.r2.bytes).toBe(referredBytes);
  }, 90_000);
});

describe("a retried group step", () => {
  it("builds its summary prompts from the rollout texts it stored in R2, and pays for no rollout again", async () => {
    await createSimAgent("texts-replay");
    await uploadSlice("texts-replay-set", "sim-train", 20, 22);
    const run = await waitForRun(
      (
        await json<{ id: string }>(
          await call("POST", "/api/runs", { agent: "texts-replay", dataset: "texts-replay-set", epochs: 1, groupSize: 3 }),
        )
      ).id,
    );
    // A group of an epoch the run never had, so nothing of it is stored yet; every text goes to R2.
    const g = { epoch: 9, batch: 0, sampleIdx: 1, libraryVersion: 0 };
    const stepContext = async (onRequest: (body: string) => Response | undefined) => {
      const ctx = await loadRunContext(env, run.id);
      const send = ctx.call.send;
      ctx.call = {
        ...ctx.call,
        texts: { ...ctx.call.texts, inlineMax: 0 },
        send: async (path, init) => onRequest(String(init.body)) ?? send(path, init),
      };
      return { ...ctx, params: { ...ctx.params, groundTruth: false } };
    };
    const isSummary = (body: string) => body.includes(STAGE_HEADINGS.summary);
    // The step dies once its rollouts are stored: the summary requests fail for good.
    const first = await stepContext((body) => (isSummary(body) ? new Response("{}", { status: 400 }) : undefined));
    await expect(runLaneGroup(first, g)).rejects.toThrow(/400/);
    const stored = await rows<{ response: string; response_ref: string | null }>(
      "select response, response_ref from rollouts where run_id = ? and epoch = 9 order by rollout_idx",
      run.id,
    );
    expect(stored).toHaveLength(3);
    for (const r of stored) expect([r.response, r.response_ref === null]).toEqual(["", false]);

    const requests: string[] = [];
    const retry = await stepContext((body) => {
      requests.push(body);
      return undefined;
    });
    expect(await runLaneGroup(retry, g)).toBe("kept");
    const summaries = requests.filter(isSummary);
    expect(summaries).toHaveLength(3);
    // Only reflection stages were requested: no rollout (their prompts carry no stage heading) was paid again.
    expect(requests.filter((body) => !Object.values(STAGE_HEADINGS).some((h) => body.includes(h)))).toEqual([]);
    const texts = (
      await json<{ data: { response: string }[] }>(await call("GET", `/api/runs/${run.id}/rollouts?epoch=9&sample=1`))
    ).data.map((r) => r.response);
    for (const [i, text] of texts.entries()) {
      expect(text.length).toBeGreaterThan(0);
      // The summary prompt of rollout i carries its text (JSON-escaped in the request body).
      expect(
        summaries.some((body) => body.includes(JSON.stringify(text).slice(1, -1))),
        `rollout ${i}`,
      ).toBe(true);
    }
  }, 90_000);
});

describe("deletion and retention reach R2", () => {
  it("deleting a run deletes its objects; the sweep stays for late writers through its grace period, then ends", async () => {
    await createSimAgent("deleted-runs");
    await uploadSlice("deleted-runs-set", "sim-train", 6, 10);
    const agentId = (await json<{ id: string }>(await call("GET", "/api/agents/deleted-runs"))).id;
    const res = await call("POST", "/api/runs", { agent: "deleted-runs", dataset: "deleted-runs-set", epochs: 1, groupSize: 3, seed: 2 });
    const run = await waitForRun((await json<{ id: string }>(res)).id);
    const prefix = ownerTextPrefix(agentId, run.id);
    const before = await objectsUnder(prefix);
    expect(before).toBeGreaterThan(0);

    expect((await call("DELETE", `/api/runs/${run.id}`)).status).toBe(200);
    expect(await objectsUnder(prefix)).toBe(0);
    expect(await rows("select prefix, deleted from text_sweeps where prefix = ?", prefix)).toEqual([{ prefix, deleted: before }]);

    // A group still in flight when the run was deleted writes one more text: the next tick takes it.
    await env.TEXTS.put(`${prefix}call/e1/s0/r0/rollout/late`, "late");
    const tick = await runScheduled(env, Date.now());
    expect(tick.texts).toMatchObject({ objects: 1 });
    expect(await objectsUnder(prefix)).toBe(0);
    expect(await count("select count(*) as n from text_sweeps where prefix = ?", prefix)).toBe(1);
    const later = await runScheduled(env, Date.now() + TEXT_SWEEP_GRACE_MS + 60_000);
    expect(later.texts?.finished).toBeGreaterThanOrEqual(1);
    expect(await count("select count(*) as n from text_sweeps where prefix = ?", prefix)).toBe(0);
  }, 90_000);

  it("deleting an agent deletes its objects and the calls, tool results and library items of its runs and evaluations", async () => {
    await createSimAgent("deleted-agent");
    await uploadSlice("deleted-agent-set", "sim-train", 10, 14);
    const agentId = (await json<{ id: string }>(await call("GET", "/api/agents/deleted-agent"))).id;
    const run = await waitForRun(
      (
        await json<{ id: string }>(
          await call("POST", "/api/runs", { agent: "deleted-agent", dataset: "deleted-agent-set", epochs: 1, groupSize: 3 }),
        )
      ).id,
    );
    expect(run.latestVersion).toBeGreaterThan(0);
    const started = await call("POST", "/api/evaluations", {
      agent: "deleted-agent",
      dataset: "deleted-agent-set",
      versions: [run.latestVersion],
      k: 1,
    });
    expect(started.status, await started.clone().text()).toBe(201);
    const evaluation = await waitForEvaluation((await json<{ id: string }>(started)).id);
    expect(evaluation.status).toBe("completed");
    // A tool result of the run (this agent has no tools; the row stands for those of one that has).
    await env.DB.prepare(
      "insert into tool_results (owner_id, call_key, tool, state, output) values (?, 'e1/s0/r0/t0/c0', 'execute_code', 'done', '{}')",
    )
      .bind(run.id)
      .run();
    const owned = async () => ({
      calls: await count("select count(*) as n from llm_calls where owner_id in (?, ?)", run.id, evaluation.id),
      tools: await count("select count(*) as n from tool_results where owner_id = ?", run.id),
      items: await count("select count(*) as n from library_items where agent_id = ?", agentId),
      objects: await objectsUnder(agentTextPrefix(agentId)),
      evaluationObjects: await objectsUnder(ownerTextPrefix(agentId, evaluation.id)),
    });
    const before = await owned();
    for (const [what, n] of Object.entries(before)) expect(n, what).toBeGreaterThan(0);

    expect((await call("DELETE", "/api/agents/deleted-agent")).status).toBe(200);
    expect(await owned()).toEqual({ calls: 0, tools: 0, items: 0, objects: 0, evaluationObjects: 0 });
    expect(await count("select count(*) as n from runs where id = ?", run.id)).toBe(0);
  }, 120_000);

  it("retention deletes the texts of expired runs from R2, and does not queue them again once they are gone", async () => {
    await createSimAgent("retained-texts", { capture: { enabled: true, retentionDays: 1 } });
    await uploadSlice("retained-texts-set", "sim-train", 14, 18);
    await env.DB.prepare("update datasets set source = 'feedback' where name = 'retained-texts-set'").run();
    const agentId = (await json<{ id: string }>(await call("GET", "/api/agents/retained-texts"))).id;
    const run = await waitForRun(
      (
        await json<{ id: string }>(
          await call("POST", "/api/runs", { agent: "retained-texts", dataset: "retained-texts-set", epochs: 1, groupSize: 3 }),
        )
      ).id,
    );
    const prefix = ownerTextPrefix(agentId, run.id);
    const before = await objectsUnder(prefix);
    expect(before).toBeGreaterThan(0);
    // Not yet expired: nothing goes.
    expect((await runScheduled(env, Date.now())).texts?.objects).toBe(0);
    expect(await objectsUnder(prefix)).toBe(before);

    await env.DB.prepare("update runs set updated_at = '2020-01-01T00:00:00.000Z' where id = ?").bind(run.id).run();
    const tick = await runScheduled(env, Date.now());
    expect(tick.retention?.rollouts).toBe(4 * 3);
    expect(tick.texts?.objects).toBe(before);
    expect(await objectsUnder(prefix)).toBe(0);
    expect(
      await count("select count(*) as n from groups where run_id = ? and (advantage_ref is not null or advantage is not null)", run.id),
    ).toBe(0);

    // Once swept and forgotten, later ticks see nothing left of the run and queue nothing.
    await runScheduled(env, Date.now() + TEXT_SWEEP_GRACE_MS + 60_000);
    expect(await count("select count(*) as n from text_sweeps where prefix = ?", prefix)).toBe(0);
    await applyRetention(db(env.DB), new Date().toISOString());
    expect(await count("select count(*) as n from text_sweeps where prefix = ?", prefix)).toBe(0);
  }, 90_000);

  it("sweeps a bounded number of objects per call, oldest sweep first", async () => {
    const prefix = "agent/ag_bulk/owner/run_bulk/";
    await Promise.all(Array.from({ length: 1300 }, (_, i) => env.TEXTS.put(`${prefix}call/k${i}`, "x")));
    expect(await textUsage(env.TEXTS, prefix, 1000)).toEqual({ objects: 1000, bytes: 1000, complete: false });
    await env.DB.prepare("insert into text_sweeps (prefix, reason) values (?, 'test')").bind(prefix).run();
    const d = db(env.DB);
    const now = Date.now();
    expect(await sweepTexts(d, env.TEXTS, now, 700, [prefix])).toEqual({ objects: 700, finished: 0, pending: 1 });
    expect(await objectsUnder(prefix)).toBe(600);
    // Empty now, but within its grace period: kept.
    expect(await sweepTexts(d, env.TEXTS, now, 1000, [prefix])).toEqual({ objects: 600, finished: 0, pending: 1 });
    expect(await rows("select deleted from text_sweeps where prefix = ?", prefix)).toEqual([{ deleted: 1300 }]);
    expect(await sweepTexts(d, env.TEXTS, now + TEXT_SWEEP_GRACE_MS + 1000, 1000, [prefix])).toEqual({
      objects: 0,
      finished: 1,
      pending: 0,
    });
  }, 60_000);
});
