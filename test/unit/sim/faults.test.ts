import { describe, expect, it } from "vitest";
import { groupUpdatePrompt } from "../../../src/core/prompts";
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
    const stage = { model: "sim-1", messages: groupUpdatePrompt({ objective: "", experiences: [{ name: "x", text: "Include both endpoints." }], library: [], maxWords: 32 }) };
    const r2 = await newModel().fetch(chatRequest(stage, { headers: only("malformed") }));
    const content = ((await r2.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content ?? "";
    expect(() => JSON.parse(content)).toThrow();
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
      for (let i = 0; i < 4; i++) out.push((await m.fetch(chatRequest(body, { headers: { "x-sim-fault-rate": "0.5", "x-sim-faults": "429,500", ...headers } }))).status);
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

  it("latency with jitter, set per request by query string", async () => {
    const started = Date.now();
    const res = await newModel().fetch(chatRequest(body, { query: "?latency_ms=120&jitter_ms=20" }));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });
});
