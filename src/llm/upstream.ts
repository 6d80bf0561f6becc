import { envString, isLocalDevelopment } from "../shared/env";
import { keyRing, openWithRing } from "../auth/keyRing";
import type { AgentRow } from "../db/agents";
import { createSimulatedModel, type SimInspection } from "../sim";

/** Wire format an upstream speaks: OpenAI's (chat completions, responses) or Anthropic's Messages API. */
export type UpstreamFormat = "openai" | "anthropic";

/** Where an agent's chat requests go. `apiKey` is a secret: never log it or return it to a client. */
export type Upstream = { baseUrl: string; model: string; apiKey: string | null; format: UpstreamFormat };

export { isSimulated } from "./urlPolicy";
import { isSimulated, upstreamUrlProblem } from "./urlPolicy";

/**
 * Worker secrets an agent may name as `apiKeySecret`: only these, so the master secrets (ADMIN_TOKEN,
 * ENCRYPTION_KEY) and any other binding can never be sent upstream (docs/security.md).
 */
export const UPSTREAM_SECRET_PREFIX = "UPSTREAM_KEY_";
export const UPSTREAM_SECRET_NAME = /^UPSTREAM_KEY_[A-Z0-9_]{1,50}$/;

/**
 * Raised when an agent's upstream cannot be used; the message is for the admin (run errors, logs) and
 * never contains the key. Proxy clients get a generic message instead (proxyAuth).
 */
export class UpstreamConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamConfigError";
  }
}

type UpstreamFields = Pick<AgentRow, "id" | "upstreamBaseUrl" | "upstreamModel" | "upstreamKeyCipher" | "upstreamKeySecret"> &
  Partial<Pick<AgentRow, "upstreamFormat">>;

/**
 * The agent's upstream with its key in clear: opened from `upstreamKeyCipher` with the key ring
 * (bound to the agent id), or read from the Worker secret named by `upstreamKeySecret`; null when the
 * agent has neither. The URL policy is checked again here, for rows stored before it or under another
 * LOCAL_DEVELOPMENT setting.
 */
export async function resolveUpstream(env: Env, agent: UpstreamFields): Promise<Upstream> {
  const baseUrl = agent.upstreamBaseUrl.replace(/\/+$/, "");
  const urlProblem = upstreamUrlProblem(baseUrl, isLocalDevelopment(env));
  if (urlProblem) throw new UpstreamConfigError(`the agent's upstream base URL ${urlProblem}`);
  let apiKey: string | null = null;
  if (agent.upstreamKeyCipher) {
    const ring = await keyRing(env).catch((error: Error) => {
      throw new UpstreamConfigError(error.message);
    });
    if (!ring) throw new UpstreamConfigError("the agent's upstream key is stored encrypted but ENCRYPTION_KEY is not configured");
    try {
      apiKey = await openWithRing(agent.upstreamKeyCipher, agent.id, ring);
    } catch {
      throw new UpstreamConfigError(
        "the agent's upstream key cannot be decrypted with the configured ENCRYPTION_KEY (or ENCRYPTION_KEY_PREVIOUS)",
      );
    }
  } else if (agent.upstreamKeySecret) {
    if (!UPSTREAM_SECRET_NAME.test(agent.upstreamKeySecret)) {
      throw new UpstreamConfigError(`apiKeySecret must name a Worker secret starting with ${UPSTREAM_SECRET_PREFIX}`);
    }
    const value = envString(env, agent.upstreamKeySecret);
    if (value === undefined) throw new UpstreamConfigError(`the Worker secret '${agent.upstreamKeySecret}' named by the agent is not set`);
    apiKey = value;
  }
  return { baseUrl, model: agent.upstreamModel, apiKey, format: agent.upstreamFormat ?? "openai" };
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
  // A redirect would carry the key to wherever the upstream points: never followed (docs/security.md).
  return fetch(`${base}${path}`, { ...init, redirect: "manual" });
}

/** The Messages API version sent to an Anthropic upstream when the client names none. */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Request headers for an upstream call. The key goes only into `authorization` (OpenAI format) or
 * `x-api-key` (Anthropic, with `anthropic-version` and, when given, `anthropic-beta` from `forward`).
 */
export function upstreamHeaders(
  upstream: Pick<Upstream, "apiKey"> & Partial<Pick<Upstream, "format">>,
  accept = "application/json",
  forward?: Headers,
): Headers {
  const headers = new Headers({ "content-type": "application/json", accept });
  if (upstream.format === "anthropic") {
    if (upstream.apiKey !== null) headers.set("x-api-key", upstream.apiKey);
    headers.set("anthropic-version", forward?.get("anthropic-version") ?? ANTHROPIC_VERSION);
    const beta = forward?.get("anthropic-beta");
    if (beta) headers.set("anthropic-beta", beta);
  } else if (upstream.apiKey !== null) headers.set("authorization", `Bearer ${upstream.apiKey}`);
  return headers;
}
