import { describe, expect, it } from "vitest";
import {
  backoffMs,
  chatCompletion,
  DEFAULT_RETRY,
  retryAfterMs,
  UpstreamError,
  type RetryPolicy,
  type UpstreamFetch,
} from "../../../src/llm/client";
import { slots } from "../../../src/shared/limit";
import { upstreamFailure } from "../../../src/training/upstreamHealth";

/** Issue 16, "Integrity and reliability": the LLM client used by training and evaluation. */

const completion = () => Response.json({ choices: [{ message: { content: "ok" } }], usage: { prompt_tokens: 1, completion_tokens: 1 } });
const BODY = { model: "m", messages: [{ role: "user", content: "hi" }] };
/** Long waits unless the upstream's hint is honoured: a test that waits them times out. */
const SLOW: RetryPolicy = { ...DEFAULT_RETRY, baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 0.99 };

function scripted(replies: (() => Response)[]): { send: UpstreamFetch; calls: () => number } {
  let n = 0;
  return { send: async () => (replies[Math.min(n++, replies.length - 1)] as () => Response)(), calls: () => n };
}

describe("LLM client: jittered backoff", () => {
  it("draws each delay at random below the capped exponential", () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 1000, maxDelayMs: 8000 };
    expect(backoffMs(3, { ...policy, random: () => 0.5 }, null)).toBe(2000);
    expect(backoffMs(3, { ...policy, random: () => 0 }, null)).toBe(0);
    expect(backoffMs(10, { ...policy, random: () => 0.999 }, null)).toBeLessThan(8000);
    const delays = new Set(Array.from({ length: 50 }, () => backoffMs(4, policy, null)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe("LLM client: retry-after-ms honoured", () => {
  it("reads retry-after-ms before retry-after", () => {
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), 0)).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": "2" }), 0)).toBe(2000);
  });

  it("waits what the upstream asks, not its own backoff", async () => {
    const up = scripted([() => new Response("slow down", { status: 429, headers: { "retry-after-ms": "5" } }), completion]);
    const r = await chatCompletion(up.send, BODY, SLOW);
    expect(r.attempts).toBe(2);
  }, 10_000);
});

describe("LLM client: non-retryable errors (400/401/403/404/quota) end the step without retries", () => {
  it.each([400, 401, 403, 404, 422])("HTTP %i: one request, a non-retryable error", async (status) => {
    const up = scripted([() => new Response("{}", { status }), completion]);
    const error = await chatCompletion(up.send, BODY, SLOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).retryable).toBe(false);
    expect(up.calls()).toBe(1);
  });

  it("a 429 for an exhausted quota is not retried; a plain 429 is", async () => {
    const quota = scripted([
      () => Response.json({ error: { code: "insufficient_quota", message: "You exceeded your current quota" } }, { status: 429 }),
    ]);
    const error = await chatCompletion(quota.send, BODY, SLOW).catch((e: unknown) => e);
    expect((error as UpstreamError).retryable).toBe(false);
    expect(quota.calls()).toBe(1);
    const busy = scripted([() => new Response("busy", { status: 429, headers: { "retry-after-ms": "1" } }), completion]);
    expect((await chatCompletion(busy.send, BODY, SLOW)).attempts).toBe(2);
  });

  it("a redirect is neither followed nor retried", async () => {
    const up = scripted([
      () => new Response(null, { status: 307, headers: { location: "https://elsewhere.example/v1/chat/completions" } }),
    ]);
    const error = await chatCompletion(up.send, BODY, SLOW).catch((e: unknown) => e);
    expect((error as UpstreamError).retryable).toBe(false);
    expect(up.calls()).toBe(1);
  });

  it("retryable failures are retried within the budget, then reported as retryable", async () => {
    const up = scripted([() => new Response("oops", { status: 503, headers: { "retry-after-ms": "1" } })]);
    const error = await chatCompletion(up.send, BODY, { ...SLOW, maxAttempts: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).retryable).toBe(true);
    expect(up.calls()).toBe(3);
  });
});

describe("LLM client: a run whose upstream keeps failing stops with a clear reason", () => {
  it("names the failure when every group of the last batch failed at the upstream, and only then", () => {
    const down = [
      { status: "dropped", reason: "upstream answered HTTP 401; not retried: the request cannot succeed as sent" },
      { status: "dropped", reason: "upstream timed out after 60000 ms (after 5 attempts)" },
    ];
    expect(upstreamFailure(down)).toMatch(/every group of the last batch failed at the upstream.*HTTP|timed out/);
    expect(upstreamFailure([...down, { status: "kept", reason: null }])).toBeNull();
    expect(upstreamFailure([{ status: "dropped", reason: "group update: reply unusable after 3 attempts" }])).toBeNull();
    expect(upstreamFailure([])).toBeNull();
  });
});

describe("Hostile input: cap bytes read from an upstream in training", () => {
  it("stops reading a reply past maxReplyBytes and does not retry it", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(32);
    const send: UpstreamFetch = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled++;
            if (pulled > 1000) controller.close();
            else controller.enqueue(chunk);
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    const error = await chatCompletion(send, BODY, { ...SLOW, maxReplyBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toContain("larger than");
    expect(pulled).toBeLessThan(40);
  });

  it("refuses a declared oversize reply without reading it", async () => {
    const send: UpstreamFetch = async () => new Response("{}", { headers: { "content-length": String(50 * 1024 * 1024) } });
    await expect(chatCompletion(send, BODY, { ...SLOW, maxReplyBytes: 1024 })).rejects.toThrow(/larger than/);
  });
});

describe("Integrity: a group's G fetches bounded to the 6-connection limit, the timeout starting when a connection is free", () => {
  /** Like a Worker invocation: 6 connections, further fetches queue while their timeout already runs. */
  function sixConnections(holdMs: number) {
    let open = 0;
    let peak = 0;
    const waiting: (() => void)[] = [];
    const send: UpstreamFetch = async (_path, init) => {
      if (open >= 6) await new Promise<void>((resolve) => waiting.push(resolve));
      open++;
      peak = Math.max(peak, open);
      try {
        if (init.signal?.aborted) throw init.signal.reason;
        await new Promise((resolve) => setTimeout(resolve, holdMs));
        if (init.signal?.aborted) throw init.signal.reason;
        return completion();
      } finally {
        open--;
        waiting.shift()?.();
      }
    };
    return { send, peak: () => peak };
  }

  it("twelve rollouts at once all succeed on their first attempt, at most six in flight", async () => {
    const net = sixConnections(200);
    const connections = slots(6);
    const policy: RetryPolicy = { ...DEFAULT_RETRY, timeoutMs: 300, maxAttempts: 1, connections };
    const results = await Promise.all(Array.from({ length: 12 }, () => chatCompletion(net.send, BODY, policy)));
    expect(results.every((r) => r.attempts === 1)).toBe(true);
    expect(net.peak()).toBeLessThanOrEqual(6);
  }, 10_000);
});
