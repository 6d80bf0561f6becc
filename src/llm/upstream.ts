import { decryptSecret } from "../auth/crypto";
import type { AgentRow } from "../db/agents";
import { createSimulatedModel, type SimInspection } from "../sim";

/** Where an agent's chat requests go. `apiKey` is a secret: never log it or return it to a client. */
export type Upstream = { baseUrl: string; model: string; apiKey: string | null };

/** The base URL that routes to the in-process simulated model instead of the network. */
export const SIM_BASE_URL = "sim://local";

export function isSimulated(baseUrl: string): boolean {
  return baseUrl === SIM_BASE_URL || baseUrl.startsWith(`${SIM_BASE_URL}?`);
}

/** Raised when an agent's upstream key cannot be produced; the message never contains the key. */
export class UpstreamConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamConfigError";
  }
}

type UpstreamFields = Pick<AgentRow, "upstreamBaseUrl" | "upstreamModel" | "upstreamKeyCipher" | "upstreamKeySecret">;

/** Reads a Worker var or secret by a name chosen at runtime (an agent's `upstreamKeySecret`). */
export function envString(env: Env, name: string): string | undefined {
  const value: unknown = Reflect.get(env, name);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The agent's upstream with its key in clear: decrypted from `upstreamKeyCipher` with ENCRYPTION_KEY,
 * or read from the Worker secret named by `upstreamKeySecret`; null when the agent has neither.
 */
export async function resolveUpstream(env: Env, agent: UpstreamFields): Promise<Upstream> {
  const baseUrl = agent.upstreamBaseUrl.replace(/\/+$/, "");
  let apiKey: string | null = null;
  if (agent.upstreamKeyCipher) {
    const secret = envString(env, "ENCRYPTION_KEY");
    if (!secret) throw new UpstreamConfigError("the agent's upstream key is stored encrypted but ENCRYPTION_KEY is not configured");
    try {
      apiKey = await decryptSecret(agent.upstreamKeyCipher, secret);
    } catch {
      throw new UpstreamConfigError("the agent's upstream key cannot be decrypted with the configured ENCRYPTION_KEY");
    }
  } else if (agent.upstreamKeySecret) {
    const value = envString(env, agent.upstreamKeySecret);
    if (value === undefined) throw new UpstreamConfigError(`the Worker secret '${agent.upstreamKeySecret}' named by the agent is not set`);
    apiKey = value;
  }
  return { baseUrl, model: agent.upstreamModel, apiKey };
}

type SimulatedModel = ReturnType<typeof createSimulatedModel>;
let simulated: SimulatedModel | undefined;

/** One simulated model per isolate, made on first use. */
function simulatedModel(): SimulatedModel {
  simulated ??= createSimulatedModel();
  return simulated;
}

/** Inspection hook for tests: what this isolate's in-process simulated model has seen (requests per call, faults per scope). */
export function inspectSimulatedModel(): SimInspection {
  return simulatedModel().inspect();
}

/** Like network `fetch`, an aborted call rejects with the signal's reason instead of yielding a response. */
async function simulatedFetch(request: Request, signal: AbortSignal | null | undefined): Promise<Response> {
  const response = await simulatedModel().fetch(request);
  if (signal?.aborted) {
    await response.body?.cancel();
    throw signal.reason;
  }
  return response;
}

/**
 * `fetch` for an upstream: `${baseUrl}${path}` over the network, or the in-process simulated model
 * when `baseUrl` is `sim://local`. `path` starts with a slash, e.g. `/chat/completions`.
 */
export function upstreamFetch(baseUrl: string, path: string, init: RequestInit): Promise<Response> {
  const base = baseUrl.replace(/\/+$/, "");
  // `sim://local?fault_rate=0.2&…` passes the simulated model's knobs along with every request.
  if (isSimulated(base)) return simulatedFetch(new Request(`http://sim.local${path}${new URL(base).search}`, init), init.signal);
  return fetch(`${base}${path}`, init);
}

/** Request headers for an upstream call; the key goes only into `authorization`. */
export function upstreamHeaders(upstream: Pick<Upstream, "apiKey">, accept = "application/json"): Headers {
  const headers = new Headers({ "content-type": "application/json", accept });
  if (upstream.apiKey !== null) headers.set("authorization", `Bearer ${upstream.apiKey}`);
  return headers;
}
