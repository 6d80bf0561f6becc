import type { InjectPosition } from "../core/inject";
import { renderLibrary } from "../core/library";
import { parseStickyBy, type StickyBy } from "../core/canarySpec";
import { BoundedMap } from "../shared/boundedMap";
import { findAgent } from "../db/agents";
import { findRunningCanary } from "../db/canaries";
import { db, type Db } from "../db/client";
import { findVersion, versionItems } from "../db/libraryVersions";
import { resolveUpstream, type Upstream } from "../llm/upstream";
import { singleFlight } from "./singleFlight";

/**
 * Per-isolate cache of what serving needs about an agent: its upstream (key decrypted once), the
 * models it allows, how to inject, and its active library already rendered.
 *
 * A snapshot is valid for one *stamp* — the agent's `active_version` and `updated_at` as last read by
 * the key check (see auth/proxyAuth.ts). The key check runs at most once per TTL per key and isolate,
 * so a promotion (or any PATCH of the agent) is picked up within the TTL without any D1 read on the
 * requests in between. Pinned versions are immutable, so their renderings are kept (bounded) forever.
 *
 * A running canary rides in the snapshot with its candidate already rendered: starting or ending one
 * moves the agent's `updated_at`, hence the stamp, so assignment needs no D1 read either.
 */

/** What a request needs to be assigned to a canary's arm (docs/serving.md, "Canary"). */
export type ServingCanary = { id: string; version: number; percent: number; sticky: StickyBy; rendered: string };

export type AgentSnapshot = {
  agentId: string;
  stamp: string;
  upstream: Upstream;
  /** The upstream model first, then `allowedModels`. */
  models: string[];
  injectPosition: InjectPosition;
  allowVersionPin: boolean;
  /** null when the agent serves no library. */
  activeVersion: number | null;
  rendered: string;
  /** Whether exchanges are captured for learning; when off, responses pass through with no extra tap. */
  capture: boolean;
  /** Ceiling on a request's output tokens; null: none. */
  maxTokens: number | null;
  /** The running canary, if any (only one whose base is the active version is ever served). */
  canary: ServingCanary | null;
};

export type AgentStamp = { activeVersion: number | null; agentUpdatedAt: string };

export const stampOf = (s: AgentStamp) => `${s.activeVersion ?? "none"}|${s.agentUpdatedAt}`;

const snapshots = new Map<string, AgentSnapshot>();
/** Loads in flight, by agent id and stamp. */
const loading = singleFlight<AgentSnapshot | null>();
const MAX_PINNED = 256;
const pinned = new BoundedMap<string, string>(MAX_PINNED);

async function loadSnapshot(env: Env, agentId: string): Promise<AgentSnapshot | null> {
  const d = db(env.DB);
  const agent = await findAgent(d, agentId);
  if (!agent || agent.id !== agentId) return null;
  const [items, canary] = await Promise.all([
    agent.activeVersion === null ? [] : versionItems(d, agent.id, agent.activeVersion),
    servingCanary(d, agent.id, agent.activeVersion),
  ]);
  const models = [agent.upstreamModel, ...agent.allowedModels.filter((m) => m !== agent.upstreamModel)];
  return {
    agentId: agent.id,
    stamp: stampOf({ activeVersion: agent.activeVersion, agentUpdatedAt: agent.updatedAt }),
    upstream: await resolveUpstream(env, agent),
    models,
    injectPosition: agent.injectPosition,
    allowVersionPin: agent.allowVersionPin,
    activeVersion: agent.activeVersion,
    rendered: renderLibrary(items),
    capture: agent.capture.enabled,
    maxTokens: agent.maxTokens,
    canary,
  };
}

/**
 * The agent's running canary as serving needs it, or null. A canary whose base is no longer the active
 * version, or whose candidate is gone, is not served (its comparison no longer holds); the next
 * evaluation of the canary ends it and records why (promotion/canary.ts).
 */
async function servingCanary(d: Db, agentId: string, activeVersion: number | null): Promise<ServingCanary | null> {
  const running = await findRunningCanary(d, agentId);
  if (!running || running.baseVersion !== activeVersion) return null;
  const [version, items] = await Promise.all([findVersion(d, agentId, running.version), versionItems(d, agentId, running.version)]);
  if (!version) return null;
  return {
    id: running.id,
    version: running.version,
    percent: running.percent,
    sticky: parseStickyBy(running.stickyBy),
    rendered: renderLibrary(items),
  };
}

/**
 * The agent's snapshot for `stamp`: from memory when the stamp matches, else read from D1 (two
 * queries) and kept. Returns null when the agent no longer exists.
 */
export async function agentSnapshot(env: Env, agentId: string, stamp: string): Promise<AgentSnapshot | null> {
  const cached = snapshots.get(agentId);
  if (cached && cached.stamp === stamp) return cached;
  // Requests that see the new stamp together share one load.
  return loading.run(`${agentId}|${stamp}`, () => loadAndKeep(env, agentId));
}

async function loadAndKeep(env: Env, agentId: string): Promise<AgentSnapshot | null> {
  const loaded = await loadSnapshot(env, agentId);
  if (!loaded) {
    snapshots.delete(agentId);
    return null;
  }
  // What was read is at least as new as `stamp`; should it already be newer, the key check brings
  // the newer stamp within one TTL.
  snapshots.set(agentId, loaded);
  return loaded;
}

/**
 * The rendering of one version of the agent's library, or null when the agent has no such version.
 * Version 0 is the empty library. Reads D1 only the first time a version is asked for in an isolate.
 */
export async function renderedVersion(env: Env, snapshot: AgentSnapshot, version: number): Promise<string | null> {
  if (version === 0) return "";
  if (version === snapshot.activeVersion) return snapshot.rendered;
  if (version === snapshot.canary?.version) return snapshot.canary.rendered;
  const key = `${snapshot.agentId}:${version}`;
  const hit = pinned.get(key);
  if (hit !== undefined) return hit;
  const d = db(env.DB);
  if (!(await findVersion(d, snapshot.agentId, version))) return null;
  const rendered = renderLibrary(await versionItems(d, snapshot.agentId, version));
  pinned.set(key, rendered);
  return rendered;
}

/** Drops what this isolate knows about an agent (after an admin change served by this isolate). */
export function forgetAgent(agentId: string): void {
  snapshots.delete(agentId);
  loading.forget((key) => key.startsWith(`${agentId}|`));
  for (const key of pinned.keys()) if (key.startsWith(`${agentId}:`)) pinned.delete(key);
}

export function libraryCacheStats(): { agents: number; pinnedVersions: number } {
  return { agents: snapshots.size, pinnedVersions: pinned.size };
}
