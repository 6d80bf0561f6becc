import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simToolDataset } from "../../src/sim";
import { randomEncryptionKey, startWranglerDev, type WranglerDev } from "../../scripts/lib/wranglerDev";
import { startSimServer, type SimServer } from "../../scripts/simServer";
import { startMcpToolServer, startSumOfSquaresServer, sumOfSquaresSpec, type ToolServer } from "../support/toolServers";

const ADMIN_TOKEN = "tools-e2e-admin";
const MCP_SECRET = "Bearer mcp-e2e-secret-value";
const HTTP_SECRET = "Bearer http-e2e-secret-value";

type Message = {
  role: string;
  content: string | null;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
};
type Rollout = { sampleIdx: number; reward: number; toolCalls: number; messages: Message[] | null };

let dev: WranglerDev;
let sim: SimServer;
let mcp: ToolServer;
let http: ToolServer;

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${dev.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
async function ok<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  if (!r.ok) throw new Error(`${r.url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

beforeAll(async () => {
  [sim, mcp, http] = await Promise.all([
    startSimServer(),
    startMcpToolServer({ secret: MCP_SECRET }),
    startSumOfSquaresServer({ secret: HTTP_SECRET }),
  ]);
  dev = await startWranglerDev({
    vars: { ADMIN_TOKEN, ENCRYPTION_KEY: randomEncryptionKey(), TOOL_KEY_MCP: MCP_SECRET, TOOL_KEY_SUMSQ: HTTP_SECRET },
  });
}, 150_000);

afterAll(async () => {
  await dev?.stop();
  await Promise.all([sim?.close(), mcp?.close(), http?.close()]);
});

describe("an agent with an MCP server and an HTTP tool, trained under wrangler dev", () => {
  it("lists the MCP tools at run start, calls both tools during training, and stores their calls and results in the rollouts", async () => {
    const all = simToolDataset("sim-tools-train");
    const problems = [
      ...all.filter((p) => p.question.startsWith("Compute ")).slice(0, 3),
      ...all.filter((p) => p.question.includes("sum of the squares")).slice(0, 3),
    ];
    await ok(
      api(
        "POST",
        "/datasets?name=tool-mix",
        problems.map(({ id, question, answer }) => ({ id, question, answer })),
      ),
    );
    const tools = [
      { type: "mcp", url: mcp.url, headerSecret: "TOOL_KEY_MCP", timeoutMs: 5000 },
      sumOfSquaresSpec(http.url, "TOOL_KEY_SUMSQ"),
    ];
    const agent = {
      upstream: { baseUrl: sim.url, model: "sim-1" },
      systemPrompt: "Answer exactly; use the tools. Give the final answer in \\boxed{}.",
      verifier: { kind: "math" },
      tools,
      maxTurns: 4,
    };
    await ok(api("POST", "/agents", { name: "toolsmith", ...agent }));

    const run = await ok<{ id: string }>(
      api("POST", "/runs", {
        agent: "toolsmith",
        dataset: "tool-mix",
        epochs: 1,
        groupSize: 3,
        batchSize: 6,
        maxGroupsInFlight: 6,
        seed: 2,
      }),
    );
    // The server's tools as listed at start are stored with the run.
    const started = await ok<{
      params: { mcpTools: { server: number; name: string; parameters: { properties?: Record<string, unknown> } }[] };
    }>(api("GET", `/runs/${run.id}`));
    expect(started.params.mcpTools.map((t) => t.name).sort()).toEqual(["fail", "power"]);
    expect(Object.keys(started.params.mcpTools.find((t) => t.name === "power")?.parameters.properties ?? {})).toEqual(["base", "exponent"]);

    let view: { status: string; error: string | null; batches: { avgToolCalls: number }[] };
    const deadline = Date.now() + 150_000;
    do {
      await new Promise((r) => setTimeout(r, 500));
      view = await ok(api("GET", `/runs/${run.id}`));
    } while (["queued", "running"].includes(view.status) && Date.now() < deadline);
    expect(view.error).toBeNull();
    expect(view.status).toBe("completed");
    expect(view.batches[0]?.avgToolCalls).toBeGreaterThan(0);

    const rollouts = (await ok<{ data: Rollout[] }>(api("GET", `/runs/${run.id}/rollouts?limit=100`))).data;
    expect(rollouts).toHaveLength(18);
    const exchanges = rollouts.flatMap((r) =>
      (r.messages ?? []).flatMap((m) =>
        (m.tool_calls ?? []).map((c) => ({
          rollout: r,
          name: c.function.name,
          args: JSON.parse(c.function.arguments) as Record<string, number>,
          result: r.messages?.find((t) => t.role === "tool" && t.tool_call_id === c.id)?.content ?? null,
        })),
      ),
    );
    const power = exchanges.filter((e) => e.name === "power");
    const squares = exchanges.filter((e) => e.name === "sum_of_squares");
    expect(power.length).toBeGreaterThan(0);
    expect(squares.length).toBeGreaterThan(0);
    // Each result is what the tool server computed for the arguments the model sent, and the model
    // answered with it.
    for (const e of power) {
      expect(e.result).toBe((BigInt(e.args.base ?? 0) ** BigInt(e.args.exponent ?? 0)).toString());
      expect(e.rollout.reward).toBe(1);
    }
    for (const e of squares) {
      let sum = 0n;
      for (let i = BigInt(e.args.from ?? 0); i <= BigInt(e.args.to ?? -1); i++) sum += i * i;
      expect(JSON.parse(e.result ?? "{}")).toEqual({ value: sum.toString() });
      expect(e.rollout.reward).toBe(1);
    }
    console.log(
      `tools e2e: ${power.length} MCP power calls, ${squares.length} HTTP sum_of_squares calls in ${rollouts.length} rollouts; avg ${view.batches[0]?.avgToolCalls.toFixed(2)} tool calls/rollout`,
    );

    // The servers were really called, with the secrets; the secrets' values appear nowhere in the rollouts.
    expect(mcp.calls.filter((c) => c.tool === "power").length).toBe(power.length);
    expect(http.calls.length).toBe(squares.length);
    expect(new Set([...mcp.calls, ...http.calls].map((c) => c.authorization))).toEqual(new Set([MCP_SECRET, HTTP_SECRET]));
    const stored = JSON.stringify(rollouts);
    expect(stored).not.toContain("mcp-e2e-secret-value");
    expect(stored).not.toContain("http-e2e-secret-value");
  }, 240_000);

  it("refuses a run whose MCP server cannot be listed (502 naming the tool), and tool specs against the URL and secret policies (400)", async () => {
    await ok(
      api("POST", "/agents", {
        name: "unlisted",
        upstream: { baseUrl: sim.url, model: "sim-1" },
        tools: [{ type: "code" }, { type: "mcp", url: "http://127.0.0.1:9/mcp", timeoutMs: 1000 }],
      }),
    );
    const refused = await api("POST", "/runs", { agent: "unlisted", dataset: "tool-mix", epochs: 1, groupSize: 2 });
    expect(refused.status).toBe(502);
    expect((await refused.json()) as unknown).toMatchObject({
      error: { code: "mcp_tools_unavailable", param: "tools.1", message: expect.stringMatching(/127\.0\.0\.1:9/) },
    });
    const runs = await ok<{ data: unknown[] }>(api("GET", "/runs?agent=unlisted"));
    expect(runs.data).toHaveLength(0);

    for (const [tool, param] of [
      [{ type: "mcp", url: "http://10.1.2.3/mcp" }, "tools.0.url"],
      [{ type: "mcp", url: "http://169.254.169.254/mcp" }, "tools.0.url"],
      [{ ...sumOfSquaresSpec("http://192.168.1.5/x") }, "tools.0.url"],
      [{ type: "mcp", url: mcp.url, headerSecret: "ADMIN_TOKEN" }, "tools.0.headerSecret"],
      [sumOfSquaresSpec(http.url, "ENCRYPTION_KEY"), "tools.0.headerSecret"],
    ] as const) {
      const res = await api("POST", "/agents", { name: "bad-tool", upstream: { baseUrl: sim.url, model: "sim-1" }, tools: [tool] });
      expect(res.status, JSON.stringify(tool)).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param, JSON.stringify(tool)).toBe(param);
    }
  }, 60_000);
});
