import { describe, expect, it } from "vitest";
import { decideCanary, type ArmCounts } from "../../../src/core/canaryDecision";
import { canaryRulesSchema, canarySpecSchema, parseStickyBy } from "../../../src/core/canarySpec";

const rules = canaryRulesSchema.parse({ minRequests: 50, margin: 0.02, maxRewardDrop: 0.05, maxErrorIncrease: 0.02, minSamples: 10 });
/** An arm with `requests` requests, `errors` of them errors, `rated` rated and `good` of those rewarded 1. */
const arm = (requests: number, errors: number, rated: number, good: number): ArmCounts => ({
  requests,
  errors,
  feedback: rated,
  rewardSum: good,
});
const decide = (candidate: ArmCounts, active: ArmCounts, r = rules) =>
  decideCanary({ canaryId: "cny_1", candidateVersion: 2, activeVersion: 1, percent: 20, rules: r, candidate, active });

describe("decideCanary", () => {
  it("waits for minRequests rated requests in each arm before it promotes", () => {
    const v = decide(arm(100, 0, 49, 49), arm(400, 0, 200, 180));
    expect(v.action).toBe("wait");
    expect(v.reason).toMatch(/candidate 49\/50/);
  });

  it("promotes a candidate that is not worse by more than the margin, with 95% confidence", () => {
    const v = decide(arm(300, 0, 100, 95), arm(1200, 0, 400, 360));
    expect(v.action).toBe("promote");
    expect(v.figures.rewardDiff!.diff).toBeCloseTo(0.05, 10);
    expect(v.figures.rewardDiff!.ci.low).toBeGreaterThanOrEqual(-0.02);
    expect(v.figures.candidate).toMatchObject({ requests: 300, feedback: 100, meanReward: 0.95 });
    expect(v.figures.active.rewardCi!.low).toBeLessThan(0.9);
  });

  it("keeps waiting while the interval still reaches below −margin, even with a point estimate of a tie", () => {
    const v = decide(arm(200, 0, 60, 54), arm(800, 0, 240, 216));
    expect(v.figures.rewardDiff!.diff).toBeCloseTo(0, 10);
    expect(v.action).toBe("wait");
    expect(v.reason).toMatch(/not yet conclusive/);
  });

  it("rolls back at once on a reward regression, long before minRequests", () => {
    // 12 rated requests of the candidate, 3 good, against 40 of the active, 36 good.
    const v = decide(arm(60, 0, 12, 3), arm(240, 0, 40, 36));
    expect(v.action).toBe("rollback");
    expect(v.figures.rewardDiff!.ci.high).toBeLessThan(-0.05);
    expect(v.reason).toMatch(/reward regresses/);
  });

  it("does not roll back on too little feedback (minSamples), nor on a drop within the threshold", () => {
    expect(decide(arm(20, 0, 9, 0), arm(80, 0, 40, 40)).action).toBe("wait");
    expect(decide(arm(2000, 0, 1000, 870), arm(8000, 0, 4000, 3600)).action).not.toBe("rollback");
  });

  it("rolls back at once when the error rate regresses past its threshold", () => {
    const v = decide(arm(30, 15, 0, 0), arm(120, 1, 0, 0));
    expect(v.action).toBe("rollback");
    expect(v.reason).toMatch(/errors regress/);
    expect(v.figures.errorDiff!.ci.low).toBeGreaterThan(0.02);
    // The same share of errors on fewer requests than minSamples is not enough.
    expect(decide(arm(6, 3, 0, 0), arm(120, 1, 0, 0)).action).toBe("wait");
    expect(decide(arm(30, 15, 0, 0), arm(5, 0, 0, 0)).action).toBe("wait");
  });

  it("does not promote a candidate whose rewards hold but whose errors are higher", () => {
    const v = decide(arm(300, 12, 100, 95), arm(1200, 12, 400, 360));
    expect(v.action).toBe("wait");
    expect(v.reason).toMatch(/errors are higher/);
  });

  it("compares with no library (active version 0) like any other version", () => {
    const v = decideCanary({
      canaryId: "c",
      candidateVersion: 1,
      activeVersion: 0,
      percent: 50,
      rules,
      candidate: arm(80, 0, 60, 58),
      active: arm(80, 0, 60, 30),
    });
    expect(v.action).toBe("promote");
    expect(v.figures.activeVersion).toBe(0);
  });
});

describe("canary spec", () => {
  it("fills the rule's defaults and accepts key or header stickiness", () => {
    expect(canarySpecSchema.parse({ version: 3, percent: 20 })).toEqual({
      version: 3,
      percent: 20,
      stickyBy: "key",
      minRequests: 100,
      margin: 0.02,
      maxRewardDrop: 0.05,
      maxErrorIncrease: 0.02,
      minSamples: 10,
    });
    expect(parseStickyBy("header:X-User-Id")).toEqual({ kind: "header", name: "x-user-id" });
    expect(parseStickyBy("key")).toEqual({ kind: "key" });
  });

  it("names the field of a bad spec", () => {
    const path = (body: unknown) => canarySpecSchema.safeParse(body).error?.issues[0]?.path.join(".");
    expect(path({ version: 3, percent: 0 })).toBe("percent");
    expect(path({ version: 3, percent: 100 })).toBe("percent");
    expect(path({ version: 3, percent: -5 })).toBe("percent");
    expect(path({ version: 0, percent: 5 })).toBe("version");
    expect(path({ version: 3, percent: 5, stickyBy: "cookie" })).toBe("stickyBy");
    expect(path({ version: 3, percent: 5, stickyBy: "header:Authorization" })).toBe("stickyBy");
    expect(path({ version: 3, percent: 5, stickyBy: "header:bad name" })).toBe("stickyBy");
    expect(path({ version: 3, percent: 5, margin: 2 })).toBe("margin");
    expect(path({ version: 3, percent: 5, extra: 1 })).toBe("");
  });
});
