/**
 * The chat endpoint end to end: a real `wrangler dev`, the standalone simulated model as upstream
 * (recording what it receives), and the official `openai` client.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimServer, type SimServer } from "../../scripts/simServer";
import { renderLibrary } from "../../src/core/library";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "../../scripts/lib/wranglerDev";

const ADMIN_TOKEN = "e2e-admin-token";
const UPSTREAM_KEY = "sk-e2e-upstream-secret";
const ITEMS = [
  { id: "E1", name: "Inclusive counting", text: "When counting integers in a closed range, include both endpoints: last - first + 1." },
  { id: "E2", name: "Percent base", text: "A percentage change applies to the original value, not the new one." },
];

let dev: WranglerDev;
let sim: SimServer;
let faulty: SimServer;
let client: OpenAI;
let limitedClient: OpenAI;

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${dev.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

beforeAll(
  async () => {
    sim = await startSimServer();
    faulty = await startSimServer({ faultRate: 1, faults: ["429"], retryAfterSeconds: 3 });
    dev = await startWranglerDev({ vars: { ADMIN_TOKEN, ENCRYPTION_KEY: randomEncryptionKey() } });

    const agent = await admin<{ id: string }>("POST", "/agents", {
      name: "e2e",
      upstream: { baseUrl: sim.url, model: "sim-1", apiKey: UPSTREAM_KEY },
    });
    await admin("POST", "/agents", { name: "limited", upstream: { baseUrl: faulty.url, model: "sim-1" } });

    // No admin endpoint creates a library version yet: write one as training would, then promote it.
    dev.d1Execute(
      [
        `INSERT INTO library_versions (agent_id, version, origin_key, item_count, note) VALUES (${sqlText(agent.id)}, 1, 'e2e/1', ${ITEMS.length}, 'e2e')`,
        ...ITEMS.map(
          (it, i) =>
            `INSERT INTO library_items (agent_id, version, position, item_id, name, text, provenance) VALUES (${sqlText(agent.id)}, 1, ${i}, ${sqlText(it.id)}, ${sqlText(it.name)}, ${sqlText(it.text)}, '[]')`,
        ),
        `UPDATE agents SET active_version = 1 WHERE id = ${sqlText(agent.id)}`,
      ].join("; "),
    );

    // Keys after the (slow) wrangler d1 execute, so that no pooled keep-alive socket has idled out.
    const key = await admin<{ key: string }>("POST", "/agents/e2e/keys", {});
    const limitedKey = await admin<{ key: string }>("POST", "/agents/limited/keys", {});
    client = new OpenAI({ baseURL: `${dev.url}/v1`, apiKey: key.key, maxRetries: 0 });
    limitedClient = new OpenAI({ baseURL: `${dev.url}/v1`, apiKey: limitedKey.key, maxRetries: 0 });
    // Covers its waits: migrations (120 s) and readiness (90 s) of wrangler dev, then wrangler d1 execute (120 s).
  },
  120_000 + 90_000 + 120_000 + 30_000,
);

afterAll(async () => {
  await dev?.stop();
  await sim?.close();
  await faulty?.close();
});

const lastUpstream = () => {
  const r = sim.requests.filter((q) => q.path.endsWith("/chat/completions")).at(-1);
  if (!r) throw new Error("the upstream received nothing");
  return r as typeof r & { body: { messages: { role: string; content: unknown }[]; [k: string]: unknown } };
};

describe("openai client through wrangler dev", () => {
  it("completes a non-streamed request with the library in exactly one system message", async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: "sim-1",
        seed: 3,
        messages: [
          { role: "system", content: "You are a careful math assistant." },
          { role: "user", content: "How many integers are there from 5 to 12 inclusive?" },
        ],
      })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(response.headers.get("x-experience-version")).toBe("1");
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);

    const up = lastUpstream();
    const systems = up.body.messages.filter((m) => m.role === "system");
    expect(systems).toHaveLength(1);
    expect(systems[0]?.content).toBe(`You are a careful math assistant.\n\n${renderLibrary(ITEMS)}`);
    expect(up.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(up)).not.toContain("tfg_");
  });

  it("streams chunk by chunk, with the usage chunk when asked for", async () => {
    const stream = await client.chat.completions.create({
      model: "sim-1",
      seed: 4,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "What is 15% of 80?" }],
    });
    let text = "";
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text.length).toBeGreaterThan(0);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    // Our usage log read the same usage chunk off the stream (over real HTTP the meter reads in slices).
    type UsageRow = {
      stream: boolean;
      status: number;
      promptTokens: number | null;
      completionTokens: number | null;
      ttfbMs: number | null;
    };
    let row: UsageRow | undefined;
    for (let i = 0; i < 50 && !row; i++) {
      const view = await admin<{ data: UsageRow[] }>("GET", "/agents/e2e/usage?limit=1");
      row = view.data.find((r) => r.stream && r.promptTokens === usage?.prompt_tokens && r.completionTokens === usage?.completion_tokens);
      if (!row) await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toMatchObject({ status: 200 });
    expect(row?.ttfbMs).not.toBeNull();
    const up = lastUpstream();
    expect(up.body.stream).toBe(true);
    expect(up.body.messages[0]).toEqual({ role: "system", content: renderLibrary(ITEMS) });
    expect(up.body.messages.filter((m) => m.role === "system")).toHaveLength(1);
  });

  it("passes tools through and returns the tool call", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "calculator",
          description: "Evaluates arithmetic",
          parameters: { type: "object", properties: { expr: { type: "string" } }, required: ["expr"] },
        },
      },
    ];
    const res = await client.chat.completions.create({
      model: "sim-1",
      tools,
      tool_choice: "auto",
      messages: [{ role: "user", content: 'call tool calculator {"expr":"12-5+1"}' }],
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    expect(call && "function" in call ? call.function.name : null).toBe("calculator");
    expect(lastUpstream().body.tools).toEqual(tools);
    expect(lastUpstream().body.tool_choice).toBe("auto");
  });

  it("streams a tool call with its text as OpenAI does: the SDK's accumulated message equals the non-streamed one", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "execute_code",
          description: "Run JavaScript",
          parameters: { type: "object", properties: { code: { type: "string" } }, required: ["code"] },
        },
      },
    ];
    const request = (seed: number) => ({
      model: "sim-1",
      tools,
      seed,
      temperature: 0.3,
      messages: [{ role: "user" as const, content: "What is the sum of the squares of the integers from 3 to 40 inclusive?" }],
    });
    // The first seed whose reply calls the tool (the simulated model sometimes estimates instead).
    let seed = 1;
    let plain = await client.chat.completions.create(request(seed));
    while (!plain.choices[0]?.message.tool_calls && seed < 20) plain = await client.chat.completions.create(request(++seed));
    const streamed = await client.chat.completions.stream(request(seed)).finalChatCompletion();
    const want = plain.choices[0]?.message;
    const got = streamed.choices[0]?.message;
    expect(want?.tool_calls?.[0]).toMatchObject({ type: "function", function: { name: "execute_code" } });
    // The reasoning text alongside the call survives streaming, and the call's arguments arrive whole.
    expect(want?.content).toMatch(/Step 1/);
    expect(got?.content).toBe(want?.content);
    expect(got?.tool_calls).toEqual(want?.tool_calls);
    expect(streamed.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("returns n choices for n > 1", async () => {
    const res = await client.chat.completions.create({
      model: "sim-1",
      n: 3,
      seed: 9,
      messages: [{ role: "user", content: "What is 7 * 6?" }],
    });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(lastUpstream().body.n).toBe(3);
  });

  it("lists the agent's models", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["sim-1"]);
  });

  it("surfaces an upstream 429 as RateLimitError with its retry-after", async () => {
    const error = await limitedClient.chat.completions
      .create({ model: "sim-1", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers.get("retry-after")).toBe("3");
    expect(rateLimit.code).toBe("rate_limit_exceeded");
  });

  it("raises AuthenticationError for a bad key", async () => {
    const bad = new OpenAI({ baseURL: `${dev.url}/v1`, apiKey: "tfg_0123456789abcdef0123456789abcdef", maxRetries: 0 });
    const error = await bad.chat.completions
      .create({ model: "sim-1", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
  });

  it("logs usage readable from the admin API", async () => {
    type Usage = {
      totals: { requests: number; promptTokens: number };
      data: { status: number; stream: boolean; version: number | null }[];
    };
    let usage: Usage | undefined;
    const deadline = Date.now() + 10_000;
    do {
      usage = await admin<Usage>("GET", "/agents/e2e/usage?limit=10");
      if (usage.totals.requests >= 4) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    expect(usage.totals.requests).toBeGreaterThanOrEqual(4);
    expect(usage.totals.promptTokens).toBeGreaterThan(0);
    expect(usage.data.some((r) => r.stream && r.status === 200 && r.version === 1)).toBe(true);
  });
});
