import { expireAgentKeys, forgetKey } from "./proxyAuth";
import { forgetCaptureSetting } from "./capture";
import { forgetAgent } from "./libraryCache";

/**
 * Hooks for admin writes, so the isolate that serves them stops using stale serving state at once
 * (other isolates follow within the serving TTL, see serving/proxyAuth.ts).
 */

/** After a proxy key is revoked. */
export function keyRevoked(keyId: string): void {
  forgetKey(keyId);
}

/** After an agent is updated, deleted, or its active library version changes. */
export function agentChanged(agentId: string): void {
  expireAgentKeys(agentId);
  forgetAgent(agentId);
  forgetCaptureSetting(agentId);
}
