/**
 * Which arm of a canary a request falls into, pure (docs/serving.md, "Canary"). The assignment is a
 * hash of (agent, canary id, sticky value) into [0, 100): the same user gets the same version in every
 * isolate and on every request for the canary's lifetime, with nothing stored and nothing read. A new
 * canary has a new id, so it draws its own users rather than reusing the last canary's.
 *
 * Raising a canary's percent would keep everyone already in it (a value below p is below any p' > p).
 */

/** 32-bit FNV-1a over UTF-16 code units, then a murmur-style finaliser so nearby inputs spread evenly. */
export function stickyHash(input: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) {
    h ^= input.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // FNV-1a alone leaves the high bits poorly mixed for short inputs that differ in their last
  // characters (user-1, user-2, …): the finaliser's xor-shifts and multiplies fix that.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The sticky value's position in [0, 100) for this agent and canary. */
export function canaryPosition(agentId: string, canaryId: string, value: string): number {
  // NUL separators: ("ab", "c") and ("a", "bc") must not collide.
  return (stickyHash(`${agentId}\u0000${canaryId}\u0000${value}`) / 2 ** 32) * 100;
}

/** True when the value falls into the candidate's share. */
export function inCandidateArm(agentId: string, canaryId: string, value: string, percent: number): boolean {
  return canaryPosition(agentId, canaryId, value) < percent;
}
