import { describe, expect, it } from "vitest";
import {
  batchesPerSegment,
  laneMembers,
  lanesOf,
  runPlan,
  SEGMENT_STEP_TARGET,
  segmentOf,
  segmentRanges,
  stepBudgetProblem,
  STEP_RESERVE,
  WORKFLOW_STEP_LIMIT,
} from "../../../src/core/stepBudget";

const ALLOWED = WORKFLOW_STEP_LIMIT - STEP_RESERVE;

describe("runPlan", () => {
  it("counts each kind of instance's steps: run, segments (per batch checkpoint + spawn + lane waits + update, then a report), lanes", () => {
    // What bench:train runs: 1 epoch of 100 samples, batch 100, 20 in flight: one segment of one batch,
    // 20 lanes of 5 groups each.
    const plan = runPlan(100, { epochs: 1, batchSize: 100, maxGroupsInFlight: 20 });
    expect(plan.run).toEqual({ instances: 1, maxSteps: 1 + 2 + 2 + 3 });
    expect(plan.segments).toMatchObject({ instances: 1, maxSteps: 3 + 20 + 1, perEpoch: 1 });
    expect(plan.lanes).toEqual({ instances: 20, maxSteps: 5 + 1, perBatch: 20 });
    // Every step: the run's 8, the segment's 24, and one per group plus one report per lane.
    expect(plan.totalSteps).toBe(8 + 24 + 100 + 20);
  });

  it("gives a short last batch fewer lanes, and a lane never more than its share", () => {
    // 250 samples in batches of 100 with 30 in flight: lanes of 4, 4 and 2 groups (the last batch has 50).
    const plan = runPlan(250, { epochs: 2, batchSize: 100, maxGroupsInFlight: 30 });
    expect(plan.lanes).toEqual({ instances: 2 * 90, maxSteps: 4 + 1, perBatch: 30 });
    expect(plan.segments.maxSteps).toBe(3 * 3 + 3 * 30 + 1);
  });

  it("splits a run of 3 epochs × 20,000 samples so that every instance is well inside the limit", () => {
    const params = { epochs: 3, batchSize: 100, maxGroupsInFlight: 16 };
    const plan = runPlan(20_000, params);
    // 200 batches an epoch, 19 steps each: 105 batches fit a segment of at most 2,000 steps.
    expect(batchesPerSegment(params)).toBe(105);
    expect(plan.segments).toMatchObject({ instances: 6, perEpoch: 2, batchesEach: 105, maxSteps: 105 * 19 + 1 });
    expect(plan.run.maxSteps).toBe(1 + 6 * 2 + 2 + 3);
    expect(plan.lanes).toMatchObject({ instances: 3 * 200 * 16, maxSteps: 7 + 1 });
    for (const kind of [plan.run, plan.segments, plan.lanes]) expect(kind.maxSteps).toBeLessThanOrEqual(SEGMENT_STEP_TARGET);
    expect(stepBudgetProblem(20_000, params)).toBeNull();
  });

  it("keeps every instance within the target whatever the batch size and groups in flight", () => {
    for (const batchSize of [1, 7, 100, 1000])
      for (const maxGroupsInFlight of [1, 16, 256]) {
        const plan = runPlan(20_000, { epochs: 20, batchSize, maxGroupsInFlight });
        expect(plan.segments.maxSteps, `batch ${batchSize}, ${maxGroupsInFlight} in flight`).toBeLessThanOrEqual(SEGMENT_STEP_TARGET);
        expect(plan.lanes.maxSteps).toBeLessThanOrEqual(1001);
        expect(plan.run.maxSteps).toBeLessThanOrEqual(ALLOWED);
      }
  });

  it("uses the batches per segment a run was started with", () => {
    const plan = runPlan(1000, { epochs: 2, batchSize: 100, maxGroupsInFlight: 10 }, 3);
    expect(plan.segments).toMatchObject({ instances: 2 * 4, batchesEach: 3, perEpoch: 4, maxSteps: 3 * 13 + 1 });
    expect(plan.run.maxSteps).toBe(1 + 8 * 2 + 5);
  });
});

describe("segments and lanes", () => {
  it("cuts an epoch's batches into consecutive ranges and finds a batch's segment", () => {
    expect(segmentRanges(7, 3)).toEqual([
      { from: 0, to: 3 },
      { from: 3, to: 6 },
      { from: 6, to: 7 },
    ]);
    expect(segmentRanges(0, 3)).toEqual([]);
    expect([0, 2, 3, 6].map((b) => segmentOf(b, 3))).toEqual([0, 0, 1, 2]);
  });

  it("deals a batch's groups to its lanes in turn, every group once", () => {
    const members = [9, 4, 7, 1, 3, 8, 2];
    expect(lanesOf(members.length, 3)).toBe(3);
    expect(lanesOf(2, 16)).toBe(2);
    const lanes = [0, 1, 2].map((lane) => laneMembers(members, 3, lane));
    expect(lanes).toEqual([
      [9, 1, 2],
      [4, 3],
      [7, 8],
    ]);
    expect(lanes.flat().sort()).toEqual([...members].sort());
  });
});

describe("stepBudgetProblem", () => {
  it("refuses a run whose own instance would pass the limit, naming it", () => {
    // One group per batch and per segment-worth of steps: 20 epochs over 2.5 million samples need
    // about 100,000 segments, two steps each in the run's instance.
    const problem = stepBudgetProblem(2_500_000, { epochs: 20, batchSize: 1, maxGroupsInFlight: 1 });
    expect(problem).toMatch(/^this run's own instance would take \d+ Workflow steps/);
    expect(problem).toContain(`at most ${ALLOWED}`);
    expect(problem).toContain("20 epochs × 2500000 samples");
    expect(stepBudgetProblem(1000, { epochs: 20, batchSize: 1, maxGroupsInFlight: 1 })).toBeNull();
  });
});
