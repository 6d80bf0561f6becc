import { describe, expect, it } from "vitest";
import { plannedRunSteps, stepBudgetProblem, STEP_RESERVE, WORKFLOW_STEP_LIMIT } from "../../../src/core/stepBudget";

describe("plannedRunSteps", () => {
  it("counts start, per batch checkpoint + spawns + waits + update, final checkpoint, finish and gate", () => {
    // The README's example: 3 epochs over 1,000 samples, batch 100, 100 groups in flight.
    expect(plannedRunSteps(1000, { epochs: 3, batchSize: 100, maxGroupsInFlight: 100 })).toBe(1 + 3 * 10 * (2 + 1 + 100) + 2 + 3);
    // What bench:train measures: 1 epoch of 100 samples with 20 in flight is 110 steps before the gate.
    expect(plannedRunSteps(100, { epochs: 1, batchSize: 100, maxGroupsInFlight: 20 })).toBe(110 + 3);
  });

  it("counts a short last batch and its waves", () => {
    // 250 samples in batches of 100 with 30 in flight: 100 (4 waves), 100 (4 waves), 50 (2 waves).
    expect(plannedRunSteps(250, { epochs: 2, batchSize: 100, maxGroupsInFlight: 30 })).toBe(1 + 2 * (102 + 4 + 102 + 4 + 52 + 2) + 2 + 3);
  });
});

describe("stepBudgetProblem", () => {
  it("accepts the issue's 3 epochs over 1,000 samples and refuses what cannot fit", () => {
    expect(stepBudgetProblem(1000, { epochs: 3, batchSize: 100, maxGroupsInFlight: 16 })).toBeNull();
    const problem = stepBudgetProblem(1000, { epochs: 10, batchSize: 100, maxGroupsInFlight: 16 });
    expect(problem).toContain(`at most ${WORKFLOW_STEP_LIMIT - STEP_RESERVE}`);
    expect(problem).toContain("10 epochs × 1000 samples");
  });
});
