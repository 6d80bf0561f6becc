import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildToolBox, mcpDeps } from "../../../src/tools/dispatch";
import { callMcpTool, McpToolError, resolveMcpTools } from "../../../src/tools/mcp";
import type { McpToolSpec } from "../../../src/tools/specs";
import { startMcpToolServer, type ToolServer } from "../../support/toolServers";

const SECRET = "Bearer mcp-test-secret";
const secrets: Record<string, string> = { TOOL_KEY_MCP: SECRET };
const deps = { secret: (name: string) => secrets[name], fetch };
const spec = (url: string, extra: Partial<McpToolSpec> = {}): McpToolSpec => ({
  type: "mcp",
  url,
  headerSecret: "TOOL_KEY_MCP",
  timeoutMs: 1000,
  ...extra,
});

let server: ToolServer;
let slow: ToolServer;

beforeAll(async () => {
  server = await startMcpToolServer({ secret: SECRET });
  slow = await startMcpToolServer({ delayMs: 5_000 });
});
afterAll(async () => {
  await server?.close();
  await slow?.close();
});

describe("MCP tools through the SDK client", () => {
  it("lists the server's tools (only the allowed ones), with their schemas, sending the secret", async () => {
    const all = await resolveMcpTools([{ spec: spec(server.url), index: 1 }], ["execute_code"], mcpDeps(deps));
    expect(all.map((t) => t.name).sort()).toEqual(["fail", "power"]);
    const power = all.find((t) => t.name === "power");
    expect(power).toMatchObject({ server: 1, description: expect.stringMatching(/Exact integer power/) });
    expect(power?.parameters).toMatchObject({ type: "object", properties: { base: { type: "integer" }, exponent: { type: "integer" } } });
    const allowed = await resolveMcpTools([{ spec: spec(server.url, { allowedTools: ["power"] }), index: 0 }], [], mcpDeps(deps));
    expect(allowed.map((t) => t.name)).toEqual(["power"]);
  });

  it("refuses a list it cannot use, naming the spec: missing allowed tool, name clash, wrong secret, server down", async () => {
    const refused = async (s: McpToolSpec, taken: string[] = [], d = deps) => {
      const error = await resolveMcpTools([{ spec: s, index: 2 }], taken, mcpDeps(d)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(McpToolError);
      return (error as Error).message;
    };
    expect(await refused(spec(server.url, { allowedTools: ["nope"] }))).toMatch(/^tools\.2: .*no tool 'nope'/);
    expect(await refused(spec(server.url), ["power"])).toMatch(/^tools\.2: .*'power' has the name of another tool/);
    expect(await refused(spec(server.url), [], { ...deps, secret: () => "Bearer wrong" })).toMatch(
      /^tools\.2: the MCP server at 127\.0\.0\.1:\d+ failed/,
    );
    expect(await refused(spec(server.url, { headerSecret: "ADMIN_TOKEN" }))).toMatch(/TOOL_KEY_/);
    expect(await refused(spec("http://127.0.0.1:9/mcp"))).toMatch(/^tools\.2: the MCP server at 127\.0\.0\.1:9/);
  });

  it("calls a tool: its text is the tool message; an isError result is an error message", async () => {
    const before = server.calls.length;
    const out = await callMcpTool(spec(server.url), "power", { base: 7, exponent: 45 }, mcpDeps(deps));
    expect(out).toEqual({ output: (7n ** 45n).toString(), isError: false });
    expect(server.calls.slice(before)).toEqual([{ tool: "power", args: { base: 7, exponent: 45 }, authorization: SECRET }]);
    const failed = await callMcpTool(spec(server.url), "fail", {}, mcpDeps(deps));
    expect(failed.isError).toBe(true);
    expect(JSON.parse(failed.output)).toMatchObject({ error: "tool fail reported an error", detail: "this tool always fails" });
    const badArgs = await callMcpTool(spec(server.url), "power", { base: "x" }, mcpDeps(deps));
    expect(badArgs.isError).toBe(true);
  });

  it("turns a server that is down, slow or answers garbage into an error tool message, within the timeout", async () => {
    const down = await callMcpTool(spec("http://127.0.0.1:9/mcp"), "power", { base: 2, exponent: 3 }, mcpDeps(deps));
    expect(down.isError).toBe(true);
    expect(JSON.parse(down.output).error).toMatch(/tool power: the MCP server at 127\.0\.0\.1:9 failed/);

    const started = Date.now();
    const late = await callMcpTool(
      spec(slow.url, { headerSecret: undefined, timeoutMs: 300 }),
      "power",
      { base: 2, exponent: 3 },
      mcpDeps(deps),
    );
    expect(late.isError).toBe(true);
    expect(JSON.parse(late.output).error).toMatch(/did not answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);

    const garbage = (body: string, type: string) => async () => new Response(body, { status: 200, headers: { "content-type": type } });
    for (const send of [
      garbage("<html>hello</html>", "text/html"),
      garbage("{not json", "application/json"),
      garbage("data: {broken\n\n", "text/event-stream"),
    ]) {
      const out = await callMcpTool(
        spec("http://tools.example/mcp", { timeoutMs: 300 }),
        "power",
        { base: 2, exponent: 3 },
        mcpDeps({ ...deps, fetch: send as typeof fetch }),
      );
      expect(out.isError).toBe(true);
      expect(JSON.parse(out.output).error).toMatch(/^tool power: /);
    }
    // A well-formed reply larger than the cap is refused before it is parsed; a smaller one is cut for the model.
    const serverWith = (text: string) =>
      (async (_input: unknown, init?: RequestInit) => {
        const message = JSON.parse(String(init?.body ?? "{}")) as { id?: number; method: string };
        if (message.id === undefined) return new Response(null, { status: 202 });
        const result =
          message.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "stub", version: "1" } }
            : { content: [{ type: "text", text }] };
        return new Response(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }), {
          status: 200,
          headers: { "content-type": "application/json" },
        });
      }) as typeof fetch;
    const big = await callMcpTool(
      spec("http://tools.example/mcp"),
      "power",
      {},
      mcpDeps({ ...deps, fetch: serverWith("x".repeat(2 * 1024 * 1024)) }),
    );
    expect(big.isError).toBe(true);
    expect(JSON.parse(big.output).error).toMatch(/exceeds 1048576 bytes/);
    const long = await callMcpTool(
      spec("http://tools.example/mcp"),
      "power",
      {},
      mcpDeps({ ...deps, fetch: serverWith("y".repeat(100_000)) }),
    );
    expect(long.isError).toBe(false);
    expect(long.output).toBe(`${"y".repeat(16 * 1024)}… [truncated]`);
  });

  it("offers the stored MCP tools in a tool box and routes their calls; the URL policy is checked per call", async () => {
    const specs = [{ type: "code" as const }, spec(server.url)];
    const stored = [{ server: 1, name: "power", description: "Exact integer power", parameters: { type: "object" } }];
    const executor = { run: async () => ({ stdout: "", result: null, error: null, truncated: false }) };
    const box = buildToolBox(specs, { ...deps, executor, urlProblem: () => null }, stored);
    expect(box.functions.map((f) => f.function.name)).toEqual(["execute_code", "power"]);
    expect(await box.call("power", '{"base":3,"exponent":4}')).toEqual({ output: "81", isError: false });
    expect((await box.call("fail", "{}")).output).toMatch(/unknown tool 'fail'/);
    const refusing = buildToolBox(specs, { ...deps, executor, urlProblem: () => "must use https" }, stored);
    expect(await refusing.call("power", '{"base":3,"exponent":4}')).toEqual({
      output: JSON.stringify({ error: "tool power: its MCP server url must use https" }),
      isError: true,
    });
  });
});
