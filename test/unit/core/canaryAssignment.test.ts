import { describe, expect, it } from "vitest";
import { canaryPosition, inCandidateArm, stickyHash } from "../../../src/core/canaryAssignment";
import { randomToken } from "../../../src/shared/ids";

const AGENT = "agt_0123456789abcdef0123";
const CANARY = "cny_aaaabbbbccccddddeeee";
/** Proxy key ids as minted (newId("key")) and user ids as an app might send them in a header. */
const keyIds = Array.from({ length: 10_000 }, () => `key_${randomToken(10)}`);
const userIds = Array.from({ length: 10_000 }, (_, i) => `user-${i + 1}`);
const emails = Array.from({ length: 10_000 }, (_, i) => `person${i}@example.com`);

const share = (values: readonly string[], percent: number, canary = CANARY) =>
  (values.filter((v) => inCandidateArm(AGENT, canary, v, percent)).length / values.length) * 100;

describe("canary assignment", () => {
  it("is a pure function of (agent, canary, value): the same answer every time, in any isolate", () => {
    expect(stickyHash("")).toBe(stickyHash(""));
    const first = keyIds.slice(0, 100).map((k) => canaryPosition(AGENT, CANARY, k));
    expect(keyIds.slice(0, 100).map((k) => canaryPosition(AGENT, CANARY, k))).toEqual(first);
    // Pinned values: a change of the hash would move users between arms of canaries already running.
    expect(stickyHash("a")).toBe(444641715);
    expect(canaryPosition("agt_1", "cny_1", "key_1")).toBeCloseTo(94.2413, 3);
    expect(first.every((p) => p >= 0 && p < 100)).toBe(true);
  });

  it("puts the asked share of 10,000 values in the candidate's arm, within ±2 points", () => {
    for (const values of [keyIds, userIds, emails]) {
      for (const percent of [1, 5, 10, 20, 50, 80, 95]) {
        expect(Math.abs(share(values, percent) - percent), `${values[0]}… at ${percent}%`).toBeLessThanOrEqual(2);
      }
    }
  });

  it("draws each canary's users afresh: two canaries' 50% arms overlap by about a quarter", () => {
    const both = userIds.filter((v) => inCandidateArm(AGENT, CANARY, v, 50) && inCandidateArm(AGENT, "cny_other", v, 50)).length;
    expect(Math.abs((both / userIds.length) * 100 - 25)).toBeLessThanOrEqual(2);
  });

  it("keeps everyone in the candidate's arm when the percent grows", () => {
    for (const v of userIds.slice(0, 2000)) {
      if (inCandidateArm(AGENT, CANARY, v, 10)) expect(inCandidateArm(AGENT, CANARY, v, 30)).toBe(true);
    }
  });

  it("does not let part boundaries collide", () => {
    expect(canaryPosition("a", "bc", "d")).not.toBe(canaryPosition("ab", "c", "d"));
  });
});
