/**
 * CLI: the simulated model as a standalone OpenAI-compatible server.
 *   npm run sim -- --port 8787 [--latency-ms 1000 --jitter-ms 100 --fault-rate 0.2 --faults 429,500,hang,malformed,truncate --hang-ms 120000 --seed S]
 * GET /v1/sim/stats reports requests, calls and injected faults per scope; GET /v1/sim/calls?scope=… the
 * per-call request log.
 */
import { parseArgs } from "node:util";
import { parseFaultKinds } from "../src/sim/faults";
import { startSimServer } from "./simServer";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8788" },
    host: { type: "string", default: "127.0.0.1" },
    "latency-ms": { type: "string" },
    "jitter-ms": { type: "string" },
    "fault-rate": { type: "string" },
    faults: { type: "string" },
    "hang-ms": { type: "string" },
    seed: { type: "string" },
  },
});

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

const server = await startSimServer({
  port: Number(values.port),
  host: values.host,
  ...(values["latency-ms"] !== undefined ? { latencyMs: num(values["latency-ms"]) } : {}),
  ...(values["jitter-ms"] !== undefined ? { jitterMs: num(values["jitter-ms"]) } : {}),
  ...(values["fault-rate"] !== undefined ? { faultRate: num(values["fault-rate"]) } : {}),
  ...(values.faults !== undefined ? { faults: parseFaultKinds(values.faults) } : {}),
  ...(values["hang-ms"] !== undefined ? { hangMs: num(values["hang-ms"]) } : {}),
  ...(values.seed !== undefined ? { seed: num(values.seed) } : {}),
});
console.log(`simulated model listening on ${server.url}`);

const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
