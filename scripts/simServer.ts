/**
 * Node adapter around the simulated model's fetch handler (kept out of src/ so src/ stays
 * Worker-safe). Records every request it receives, so tests of a proxy can assert what reached the
 * upstream; `inspect()` gives the model's own per-call request log and fault counts per scope (also at
 * `GET /v1/sim/stats` and `GET /v1/sim/calls?scope=…`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createSimulatedModel, type SimInspection, type SimOptions } from "../src/sim/index";

export type RecordedRequest = {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON body when it parses, else the raw text (or null when empty). */
  body: unknown;
  /** Whether the whole reply was handed to the connection (false while held, or when the client left first). */
  answered: boolean;
  /** When the request arrived and when its reply was handed over (performance.now(); null until then). */
  startedAt: number;
  endedAt: number | null;
};

/** Concurrency seen by the server: benchmarks report the peak number of calls in flight. */
/**
 * `idleMs`: time between the first request and the last reply during which no request was in flight —
 * the time the caller spent on its own work with the model waiting.
 */
export type SimStats = {
  inFlight: number;
  peakInFlight: number;
  total: number;
  firstAt: number | null;
  lastAt: number | null;
  idleMs: number;
};

export type SimServer = {
  url: string;
  port: number;
  requests: RecordedRequest[];
  stats: SimStats;
  /** The model's per-call request log and injected faults, per scope (an agent's base URL path and knobs). */
  inspect(): SimInspection;
  close(): Promise<void>;
};

export type SimServerOptions = SimOptions & {
  port?: number;
  host?: string;
  /** Called with each request before it is answered; the reply waits for the returned promise (tests hold calls with it). */
  hold?: (request: RecordedRequest) => Promise<void> | void;
  /** Keep every request in `requests` (default true); a long benchmark turns it off to bound its memory. */
  keepRequests?: boolean;
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(parts);
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

export async function startSimServer(opts: SimServerOptions = {}): Promise<SimServer> {
  const model = createSimulatedModel(opts);
  const host = opts.host ?? "127.0.0.1";
  const requests: RecordedRequest[] = [];
  const stats: SimStats = { inFlight: 0, peakInFlight: 0, total: 0, firstAt: null, lastAt: null, idleMs: 0 };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const now = performance.now();
    stats.total++;
    stats.firstAt ??= now;
    if (stats.inFlight === 0 && stats.lastAt !== null) stats.idleMs += now - stats.lastAt;
    stats.peakInFlight = Math.max(stats.peakInFlight, ++stats.inFlight);
    res.on("close", () => {
      if (--stats.inFlight === 0) stats.lastAt = performance.now();
    });
    void (async () => {
      const body = await readBody(req);
      const text = body.toString("utf8");
      let parsed: unknown = text === "" ? null : text;
      try {
        if (text !== "") parsed = JSON.parse(text);
      } catch {
        // keep the raw text
      }
      const headers = headersOf(req);
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers,
        body: parsed,
        answered: false,
        startedAt: now,
        endedAt: null,
      };
      if (opts.keepRequests !== false) requests.push(recorded);
      // A reply counts as given only if the client was still there to take it.
      let left = false;
      res.on("close", () => (left ||= !res.writableFinished));
      res.on("finish", () => {
        recorded.answered = !left && !req.socket.destroyed;
        recorded.endedAt = performance.now();
      });
      await opts.hold?.(recorded);
      // Abort the handler (latency, hang) when the client goes away before the reply is done.
      const abort = new AbortController();
      res.on("close", () => {
        if (!res.writableFinished) abort.abort(new Error("client closed the connection"));
      });
      const method = req.method ?? "GET";
      const request = new Request(`http://${host}${req.url ?? "/"}`, {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? undefined : new Uint8Array(body),
        signal: abort.signal,
      });
      const response = await model.fetch(request);
      if (abort.signal.aborted) return;
      const replyHeaders = Object.fromEntries(response.headers.entries());
      if (!response.body || !(replyHeaders["content-type"] ?? "").includes("text/event-stream")) {
        // A complete reply goes out with its length, as HTTP servers in front of models send JSON.
        const bytes = Buffer.from(await response.arrayBuffer());
        if (abort.signal.aborted) return;
        res.writeHead(response.status, { ...replyHeaders, "content-length": String(bytes.byteLength) });
        res.end(bytes);
        return;
      }
      res.writeHead(response.status, replyHeaders);
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done || abort.signal.aborted) break;
        res.write(value);
      }
      res.end();
    })().catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: String(err), type: "server_error", code: null, param: null } }));
      } else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/v1`,
    port,
    requests,
    stats,
    inspect: () => model.inspect(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
