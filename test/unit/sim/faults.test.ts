import { describe, expect, it } from "vitest";
import { parseExperiences, parseSummary } from "../../../src/core/parse";
import { groupUpdatePrompt } from "../../../src/core/prompts";
import { garble } from "../../../src/sim/stages";
import { chatRequest, newModel, sseData } from "./helpers";

const Q = "How many integers are there from 12 to 47, inclusive?";
const body = { model: "sim-1", messages: [{ role: "user", content: Q }], seed: 9, temperature: 0.7 };
const only = (kind: string) => ({ "x-sim-fault-rate": "1", "x-sim-faults": kind });

async function cleanReply(b: Record<string, unknown> = body): Promise<string> {
  return (await newModel().fetch(chatRequest(b))).text();
}

describe("faults", () => {
  it("429 with Retry-After, then the retry succeeds with the fault-free content", async () => {
    const m = newModel();
    const res = await m.fetch(chatRequest(body, { headers: only("429") }));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("rate_limit_error");
    let last = res;
    for (let i = 0; i < 5 && last.status !== 200; i++) last = await m.fetch(chatRequest(body, { headers: only("429") }));
    expect(last.status).toBe(200);
    expect(await last.text()).toBe(await cleanReply());
  });

  it("500 with the OpenAI error shape", async () => {
    const res = await newModel().fetch(chatRequest(body, { headers: only("500") }));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("server_error");
  });

  it("hang lasts hangMs and respects abort", async () => {
    const m = newModel({ hangMs: 60_000 });
    const ctl = new AbortController();
    const started = Date.now();
    const pending = m.fetch(chatRequest(body, { headers: only("hang"), signal: ctl.signal }));
    setTimeout(() => ctl.abort(), 50);
    const res = await pending;
    expect(res.status).toBe(499);
    expect(Date.now() - started).toBeLessThan(5_000);
    const short = await newModel({ hangMs: 30 }).fetch(chatRequest(body, { headers: only("hang") }));
    expect(await short.text()).toBe(await cleanReply());
  });

  it("malformed: broken JSON body for a rollout, broken JSON content for a JSON stage", async () => {
    const res = await newModel().fetch(chatRequest(body, { headers: only("malformed") }));
    expect(res.status).toBe(200);
    await expect(res.clone().json()).rejects.toThrow();
    const stage = {
      model: "sim-1",
      messages: groupUpdatePrompt({
        objective: "",
        experiences: [{ name: "x", text: "Include both endpoints." }],
        library: [],
        maxWords: 32,
      }),
    };
    const r2 = await newModel().fetch(chatRequest(stage, { headers: only("malformed") }));
    const content = ((await r2.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content ?? "";
    expect(() => JSON.parse(content)).toThrow();
  });

  it("malformed: a tag stage's reply is one its parser rejects (so the client retries instead of storing a different reply)", () => {
    const summary = "<summary>Step 1 counted the range with last - first, which left out an endpoint; the answer was off by one.</summary>";
    const advantage =
      '<analysis>The better attempts included both ends.</analysis>\n<experiences>\n<experience name="Inclusive count">When counting integers in a closed range, use last - first + 1.</experience>\n</experiences>';
    expect(parseSummary(summary).ok).toBe(true);
    expect(parseExperiences(advantage, { max: 2, maxWords: 32 }).ok).toBe(true);
    expect(parseSummary(garble("summary", summary)).ok).toBe(false);
    expect(parseExperiences(garble("advantage", advantage), { max: 2, maxWords: 32 }).ok).toBe(false);
  });

  it("truncate cuts a stream before [DONE]", async () => {
    const res = await newModel().fetch(chatRequest({ ...body, stream: true }, { headers: only("truncate") }));
    const data = await sseData(res);
    expect(data.length).toBeGreaterThan(1);
    expect(data).not.toContain("[DONE]");
    expect(data.some((d) => d.includes('"finish_reason":"stop"'))).toBe(false);
  });

  it("fault decisions are deterministic per (seed, request, attempt); x-sim-attempt overrides the counter", async () => {
    const kinds = async (m: ReturnType<typeof newModel>, headers: Record<string, string> = {}) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++)
        out.push(
          (await m.fetch(chatRequest(body, { headers: { "x-sim-fault-rate": "0.5", "x-sim-faults": "429,500", ...headers } }))).status,
        );
      return out;
    };
    const a = await kinds(newModel());
    expect(await kinds(newModel())).toEqual(a);
    // Attempt 4 and later never fault (maxFaultyAttempts = 3).
    expect(a[3]).toBe(200);
    const pinned = await kinds(newModel(), { "x-sim-attempt": "1" });
    expect(new Set(pinned).size).toBe(1);
    expect((await newModel().fetch(chatRequest(body, { headers: { ...only("429"), "x-sim-attempt": "4" } }))).status).toBe(200);
  });

  it("a retrying client always gets the same content as a fault-free run, at a 50% fault rate", async () => {
    const m = newModel({ faultRate: 0.5, faults: ["429", "500", "malformed", "truncate"] });
    for (let seed = 0; seed < 20; seed++) {
      const b = { ...body, seed };
      const clean = await cleanReply(b);
      let got: string | null = null;
      for (let attempt = 0; attempt < 6 && got === null; attempt++) {
        const res = await m.fetch(chatRequest(b));
        const text = await res.text();
        if (res.status === 200 && text.endsWith("}")) got = text;
      }
      expect(got).toBe(clean);
    }
  });

  it("keeps attempt counters per scope: a fault-free client sending the same request does not advance a faulty one's", async () => {
    const m = newModel();
    const faulty = () => m.fetch(chatRequest(body, { query: "?fault_rate=1&faults=429" }));
    const steady = () => m.fetch(chatRequest(body));
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await faulty()).status);
      expect((await steady()).status).toBe(200);
    }
    // Attempts 1..3 of the faulty scope fault, the 4th never does, whatever the other scope did meanwhile.
    statuses.push((await faulty()).status);
    expect(statuses).toEqual([429, 429, 429, 200]);
    // A path prefix is a scope of its own, as is an explicit x-sim-scope.
    const other = await m.fetch(
      new Request("http://sim.test/agent-b/v1/chat/completions?fault_rate=1&faults=429", { method: "POST", body: JSON.stringify(body) }),
    );
    expect(other.status).toBe(429);
    const named = await m.fetch(chatRequest(body, { query: "?fault_rate=1&faults=429", headers: { "x-sim-scope": "run-7" } }));
    expect(named.status).toBe(429);
    const scopes = m.inspect().scopes.map((s) => [s.scope, s.requests, s.faults["429"]]);
    expect(scopes).toEqual([
      ["/v1?fault_rate=1&faults=429", 4, 3],
      ["/v1", 3, 0],
      ["/agent-b/v1?fault_rate=1&faults=429", 1, 1],
      ["run-7", 1, 1],
    ]);
  });

  it("counts the faults it injects, per kind and on first attempts, and logs requests per call", async () => {
    const m = newModel({ faultRate: 0.2, faults: ["429", "500", "malformed", "truncate"] });
    const n = 400;
    for (let seed = 0; seed < n; seed++) {
      for (let attempt = 0; attempt < 4; attempt++) {
        const res = await m.fetch(chatRequest({ ...body, seed }));
        const text = await res.text();
        if (res.status === 200 && text.endsWith("}")) break;
      }
    }
    const [stats] = m.inspect().scopes;
    expect(stats).toBeDefined();
    const injected = Object.values(stats!.firstAttemptFaults).reduce((a, b) => a + b, 0);
    // 400 draws at p = 0.2: the standard deviation is 2 points, so 5 points is 2.5 sigma.
    expect(stats!.firstAttempts).toBe(n);
    expect(Math.abs(injected / n - 0.2)).toBeLessThanOrEqual(0.05);
    for (const kind of ["429", "500", "malformed", "truncate"] as const) expect(stats!.faults[kind], kind).toBeGreaterThan(0);
    expect(stats!.faults.hang).toBe(0);
    expect(stats!.calls).toBe(n);
    expect(stats!.replies).toBe(n);
    expect(stats!.requests).toBe(n + Object.values(stats!.faults).reduce((a, b) => a + b, 0));
    const log = m.inspect().calls(stats!.scope);
    expect(log).toHaveLength(n);
    expect(log.every((c) => c.replies === 1 && c.requests === 1 + Object.values(c.faults).reduce((a, b) => a + b, 0))).toBe(true);
    // The call key is the id of the reply, so a client can find its call in the log.
    const reply = (await (await m.fetch(chatRequest({ ...body, seed: 3 }, { headers: { "x-sim-attempt": "9" } }))).json()) as {
      id: string;
    };
    expect(log.some((c) => `chatcmpl-sim-${c.callKey}` === reply.id && c.seed === 3)).toBe(true);
  });

  it("serves its counts and its call log as JSON", async () => {
    const m = newModel();
    await m.fetch(chatRequest(body, { query: "?fault_rate=1&faults=500" }));
    await m.fetch(chatRequest(body, { query: "?fault_rate=1&faults=500" }));
    const stats = (await (await m.fetch(new Request("http://sim.test/v1/sim/stats"))).json()) as {
      seq: number;
      scopes: { scope: string; requests: number; faults: Record<string, number> }[];
    };
    expect(stats.seq).toBe(2);
    expect(stats.scopes).toEqual([
      expect.objectContaining({
        scope: "/v1?fault_rate=1&faults=500",
        requests: 2,
        faults: expect.objectContaining({ "500": 2, "429": 0 }),
      }),
    ]);
    const calls = (await (
      await m.fetch(new Request(`http://sim.test/v1/sim/calls?scope=${encodeURIComponent("/v1?fault_rate=1&faults=500")}`))
    ).json()) as { data: { requests: number; stage: string; firstSeq: number; lastSeq: number }[] };
    expect(calls.data).toEqual([expect.objectContaining({ requests: 2, stage: "rollout", firstSeq: 1, lastSeq: 2 })]);
  });

  it("latency with jitter, set per request by query string", async () => {
    const started = Date.now();
    const res = await newModel().fetch(chatRequest(body, { query: "?latency_ms=120&jitter_ms=20" }));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });
});
