/**
 * The local stack's Worker server: what `wrangler dev` runs (wrangler's own dev server, local D1 and
 * Workflows), started through wrangler's programmatic API so that the Worker runs WITHOUT an inspector.
 *
 * Under `wrangler dev` the inspector cannot be turned off, and with it attached the local stack wedges
 * under load (docs/wrangler-dev.md): wrangler relays every inspector message of the Worker to its Node
 * process as an HTTP request of its own (four per D1 query: thousands of open sockets during an
 * evaluation), and every isolate with an inspector captures a JavaScript stack trace when it warns about
 * an RPC stub the garbage collector found undisposed — from inside the collector, which aborts the whole
 * process when it happens in optimised code. The local Workflow engine leaves such stubs behind on every
 * step. Without an inspector there is neither.
 *
 * Run by scripts/lib/wranglerDev.ts in a process group of its own:
 *   node --import tsx scripts/lib/devServer.ts --port 8787 --ip 127.0.0.1 --persist-to DIR \
 *     [--config wrangler.toml] [--var NAME:value]… [--test-scheduled] [--log-level warn]
 * It prints "ready on <url>" once it serves, and stops on SIGINT or SIGTERM.
 */
import { parseArgs } from "node:util";
import { unstable_startWorker } from "wrangler";

type LogLevel = "debug" | "info" | "log" | "warn" | "error" | "none";
const LOG_LEVELS: readonly string[] = ["debug", "info", "log", "warn", "error", "none"];

const { values } = parseArgs({
  options: {
    config: { type: "string", default: "wrangler.toml" },
    port: { type: "string" },
    ip: { type: "string", default: "127.0.0.1" },
    "persist-to": { type: "string" },
    var: { type: "string", multiple: true, default: [] },
    "test-scheduled": { type: "boolean", default: false },
    "log-level": { type: "string", default: "warn" },
  },
});

const level = values["log-level"];
if (!LOG_LEVELS.includes(level)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
const bindings = Object.fromEntries(
  values.var.map((pair) => {
    const at = pair.indexOf(":");
    if (at <= 0) throw new Error(`--var expects NAME:value, got '${pair}'`);
    return [pair.slice(0, at), { type: "plain_text" as const, value: pair.slice(at + 1) }];
  }),
);

const worker = await unstable_startWorker({
  config: values.config,
  bindings,
  dev: {
    inspector: false,
    remote: false,
    watch: false,
    logLevel: level as LogLevel,
    testScheduled: values["test-scheduled"],
    server: { hostname: values.ip, ...(values.port ? { port: Number(values.port) } : {}) },
    ...(values["persist-to"] ? { persist: values["persist-to"] } : {}),
  },
});
const url = await worker.url;
console.log(`ready on ${url.origin}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await worker.dispose();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
