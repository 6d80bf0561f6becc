import { env } from "cloudflare:test";
import { expect } from "vitest";
import { db } from "../../src/db/client";
import { highestItemNumberEver, nextVersionNumber, versionStatements } from "../../src/db/libraryVersions";
import type { HandItem } from "../fixtures/handWrittenLibraries";
import { call, json } from "./helpers";
import { proxyChat } from "./evalHelpers";

/**
 * A version made by hand with the repository's own query functions (no route makes one on this branch):
 * the next version number, fresh item ids, provenance "HAND".
 */
export async function handMadeVersion(agent: string, items: readonly HandItem[], note = "hand-made"): Promise<number> {
  const { id: agentId } = await json<{ id: string }>(await call("GET", `/api/agents/${agent}`));
  const d = db(env.DB);
  const version = await nextVersionNumber(d, agentId);
  const first = (await highestItemNumberEver(d, agentId)) + 1;
  const [head, ...rest] = versionStatements(
    d,
    { agentId, version, parentVersion: null, runId: null, originKey: `hand-made-${version}`, note },
    items.map((item, i) => ({ id: `E${first + i}`, ...item, provenance: [{ runId: null, epoch: null, batch: null, op: "HAND" }] })),
  );
  await d.batch([head!, ...rest]);
  return version;
}

export async function mintKey(agent: string): Promise<string> {
  const res = await call("POST", `/api/agents/${agent}/keys`, {});
  expect(res.status).toBe(201);
  return (await json<{ key: string }>(res)).key;
}

export type Served = { status: number; version: string | null; requestId: string; text: string };

/** One chat completion through the proxy; `headers` may carry the canary's sticky header. */
export async function chat(key: string, question: string, seed: number, headers: Record<string, string> = {}): Promise<Served> {
  const res = await proxyChat(key, question, { temperature: 0.7, seed, headers });
  const body = await res.text();
  let text = "";
  try {
    text = (JSON.parse(body) as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content ?? "";
  } catch {
    text = body;
  }
  return { status: res.status, version: res.headers.get("x-experience-version"), requestId: res.headers.get("x-request-id") ?? "", text };
}

export async function feedback(key: string, requestId: string, reward: number): Promise<void> {
  const res = await call("POST", "/v1/feedback", { request_id: requestId, reward }, { authorization: `Bearer ${key}` });
  expect(res.status, await res.clone().text()).toBe(200);
}

export type CanaryView = {
  id: string;
  version: number;
  baseVersion: number | null;
  percent: number;
  stickyBy: string;
  status: string;
  startedBy: string;
  reason: string | null;
  createdAt: string;
};

export async function canaryState(
  agent: string,
): Promise<{ canary: CanaryView | null; verdict: { action: string; reason: string } | null; history: CanaryView[] }> {
  return json(await call("GET", `/api/agents/${agent}/canary`));
}

/** Starts a canary through the admin API (201 expected) and returns it. */
export async function startCanary(agent: string, body: Record<string, unknown>): Promise<CanaryView> {
  const res = await call("PUT", `/api/agents/${agent}/canary`, body);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return (JSON.parse(text) as { canary: CanaryView }).canary;
}
