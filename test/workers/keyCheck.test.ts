import { env } from "cloudflare:test";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { forgetKey, identifyKey } from "../../src/serving/proxyAuth";
import { hashProxyKey } from "../../src/auth/proxyKeys";
import { countingEnv, d1Counts, resetD1Counts } from "../../src/db/counting";
import { agentSnapshot, stampOf } from "../../src/serving/libraryCache";
import { setServingTtlOverride } from "../../src/serving/ttl";
import { call, json } from "./helpers";

/**
 * Requests that arrive together while the cached key entry (or agent snapshot) is stale share one D1
 * check instead of each sending its own: under load a check can outlast the TTL.
 */

const counted = countingEnv(env);
const ctx = { waitUntil: (p: Promise<unknown>) => void p };
let hash: string;
let keyId: string;
let agentId: string;

beforeAll(async () => {
  const res = await call("POST", "/api/agents", {
    name: "herd",
    upstream: { baseUrl: "http://upstream.test/v1", model: "m", apiKey: "sk-x" },
  });
  agentId = (await json<{ id: string }>(res)).id;
  const key = await json<{ key: string; id: string }>(await call("POST", "/api/agents/herd/keys", {}));
  hash = await hashProxyKey(key.key);
  keyId = key.id;
  // TTL 0: every request finds its entry expired and checks D1 itself.
  setServingTtlOverride(0);
});

afterAll(() => setServingTtlOverride(null));
beforeEach(() => resetD1Counts());

describe("key checks", () => {
  it("sends one query for many requests arriving together", async () => {
    const entries = await Promise.all(Array.from({ length: 20 }, () => identifyKey(counted, ctx, hash)));
    expect(entries.every((e) => e?.keyId === keyId)).toBe(true);
    expect(d1Counts().reads).toBe(1);
  });

  it("checks again for requests that come after the check ended", async () => {
    await identifyKey(counted, ctx, hash);
    await identifyKey(counted, ctx, hash);
    expect(d1Counts().reads).toBe(2);
  });

  it("does not let a request made after a revocation join a check started before it", async () => {
    const before = identifyKey(counted, ctx, hash);
    forgetKey(keyId);
    const after = identifyKey(counted, ctx, hash);
    await Promise.all([before, after]);
    expect(d1Counts().reads).toBe(2);
  });
});

describe("agent snapshots", () => {
  it("loads a new stamp once for many requests arriving together", async () => {
    const stamp = stampOf({ activeVersion: null, agentUpdatedAt: `changed-${Date.now()}` });
    const snapshots = await Promise.all(Array.from({ length: 20 }, () => agentSnapshot(counted, agentId, stamp)));
    expect(snapshots.every((s) => s?.agentId === agentId)).toBe(true);
    // The agent has no active version: one query for the agent and one for a running canary (none
    // runs), none for library items — once for the 20 requests.
    expect(d1Counts().reads).toBe(2);
  });
});
