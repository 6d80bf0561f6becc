import { expect } from "vitest";
import { simDataset } from "../../src/sim";
import { call, json } from "./helpers";

export const SYSTEM = "Solve the word problem step by step and give the final answer in \\boxed{}.";

/**
 * One chat completion through the proxy with a proxy key: the system prompt and `question`; `temperature`
 * and `seed` are sent only when given, and `headers` (a canary's sticky header, say) are added.
 */
export function proxyChat(
  key: string,
  question: string,
  options: { temperature?: number; seed?: number; headers?: Record<string, string> } = {},
): Promise<Response> {
  return call(
    "POST",
    "/v1/chat/completions",
    {
      model: "sim-1",
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: question },
      ],
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    },
    { authorization: `Bearer ${key}`, ...options.headers },
  );
}

export async function createSimAgent(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await call("POST", "/api/agents", {
    name,
    upstream: { baseUrl: "sim://local", model: "sim-1" },
    systemPrompt: SYSTEM,
    objective: "Answer arithmetic word problems exactly.",
    verifier: { kind: "math" },
    ...extra,
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** Uploads a slice of a simulated data set under `name`. */
export async function uploadSlice(name: string, set: "sim-train" | "sim-test", from: number, to: number): Promise<void> {
  const res = await call("POST", `/api/datasets?name=${name}`, simDataset(set).slice(from, to));
  expect(res.status, await res.clone().text()).toBe(201);
}

/** How long `waitFor` (and so `waitForRun`, `waitForEvaluation`) waits by default. */
export const WAIT_MS = 50_000;

/** A test timeout that covers `waits` default waits plus `extraMs` of other waiting, with room for the requests in between. */
export function covering(waits: number, extraMs = 0): number {
  return waits * WAIT_MS + extraMs + 20_000;
}

export async function waitFor<T>(what: string, get: () => Promise<T>, done: (t: T) => boolean, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export type RunView = {
  id: string;
  status: string;
  error: string | null;
  latestVersion: number;
  fromVersion: number;
  kind: string;
  datasetId: string;
};
export const finished = (s: { status: string }) => !["queued", "running"].includes(s.status);

export async function waitForRun(id: string, timeoutMs = WAIT_MS): Promise<RunView> {
  return waitFor(`run ${id}`, async () => json<RunView>(await call("GET", `/api/runs/${id}`)), finished, timeoutMs);
}

export type EvaluationView = {
  id: string;
  status: string;
  error: string | null;
  questions: number;
  versions: {
    version: number;
    label: string;
    meanAtK: number;
    passAtK: number;
    ci95: { low: number; high: number };
    questionsDone: number;
    tokens: { calls: number; promptTokens: number };
  }[];
  paired: { version: number; against: number; diff: number; ci95: { low: number; high: number } } | null;
};

export async function waitForEvaluation(id: string, timeoutMs = WAIT_MS): Promise<EvaluationView> {
  return waitFor(`evaluation ${id}`, async () => json<EvaluationView>(await call("GET", `/api/evaluations/${id}`)), finished, timeoutMs);
}

export type Promotion = {
  id: string;
  decidedBy: string;
  decision: string;
  fromVersion: number | null;
  toVersion: number | null;
  runId: string | null;
  evaluationId: string | null;
  figures: Record<string, unknown> | null;
  reason: string;
  warnings: string[];
};

export async function promotionsOf(agent: string): Promise<{ active: number | null; data: Promotion[] }> {
  return json(await call("GET", `/api/agents/${agent}/promotions`));
}

export const pct = (x: number) => (x * 100).toFixed(1);
