/**
 * Tool servers on loopback for tests: an MCP server built with the official SDK (Streamable HTTP,
 * with sessions), and a plain HTTP tool. Both compute exactly (BigInt) and check the `authorization`
 * header against the secret they were given, so a test sees the Worker send it.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

export type ToolServer = { url: string; calls: { tool: string; args: unknown; authorization: string | null }[]; close(): Promise<void> };

async function listen(server: Server, path: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

function unauthorized(res: ServerResponse): void {
  res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "unauthorized" }));
}

export type McpServerOptions = {
  /** The `authorization` value the server demands (none: no check). */
  secret?: string;
  /** Milliseconds each tool call waits before answering (a slow server). */
  delayMs?: number;
};

/**
 * An MCP server with `power` (exact integer power) and
 * `fail` (answers with isError) at /mcp, one SDK server and transport per session.
 */
export async function startMcpToolServer(options: McpServerOptions = {}): Promise<ToolServer> {
  const calls: ToolServer["calls"] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let authorization: string | null = null;

  function newServer(): McpServer {
    const server = new McpServer({ name: "test-math", version: "1.0.0" });
    server.registerTool(
      "power",
      {
        description: "Exact integer power: base raised to the exponent, every digit (arbitrary precision).",
        inputSchema: { base: z.number().int(), exponent: z.number().int().min(0).max(10_000) },
      },
      async ({ base, exponent }) => {
        calls.push({ tool: "power", args: { base, exponent }, authorization });
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        return { content: [{ type: "text", text: (BigInt(base) ** BigInt(exponent)).toString() }] };
      },
    );
    server.registerTool("fail", { description: "Always reports an error.", inputSchema: {} }, async () => {
      calls.push({ tool: "fail", args: {}, authorization });
      return { content: [{ type: "text", text: "this tool always fails" }], isError: true };
    });
    return server;
  }

  const http = createServer(async (req, res) => {
    try {
      authorization = req.headers.authorization ?? null;
      if (options.secret !== undefined && authorization !== options.secret) return unauthorized(res);
      const sessionId = req.headers["mcp-session-id"];
      const known = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
      const body = req.method === "POST" ? await readBody(req) : undefined;
      if (known) return await known.handleRequest(req, res, body);
      if (req.method !== "POST") return res.writeHead(400).end("no session");
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, transport);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await newServer().connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    }
  });
  const url = await listen(http, "/mcp");
  return { url, calls, close: () => close(http) };
}

/** An HTTP tool: POST {from, to} → {"value": "<sum of the squares from..to, inclusive>"}. */
export async function startSumOfSquaresServer(options: { secret?: string } = {}): Promise<ToolServer> {
  const calls: ToolServer["calls"] = [];
  const http = createServer(async (req, res) => {
    const authorization = req.headers.authorization ?? null;
    if (options.secret !== undefined && authorization !== options.secret) return unauthorized(res);
    const args = (await readBody(req)) as { from?: unknown; to?: unknown };
    calls.push({ tool: "sum_of_squares", args, authorization });
    if (!Number.isInteger(args.from) || !Number.isInteger(args.to)) {
      return res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "from and to must be integers" }));
    }
    let sum = 0n;
    for (let i = BigInt(args.from as number); i <= BigInt(args.to as number); i++) sum += i * i;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value: sum.toString() }));
  });
  return { url: await listen(http, "/sum-of-squares"), calls, close: () => close(http) };
}

/** The definition of the HTTP tool above, as an agent's tool spec. */
export function sumOfSquaresSpec(url: string, headerSecret?: string): Record<string, unknown> {
  return {
    type: "http",
    name: "sum_of_squares",
    description: "Sum of the squares of the integers from `from` to `to`, both included (exact).",
    parameters: { type: "object", properties: { from: { type: "integer" }, to: { type: "integer" } }, required: ["from", "to"] },
    url,
    ...(headerSecret ? { headerSecret } : {}),
  };
}
