/**
 * How many Workflow steps a training run's parent instance takes, so that a run that cannot fit the
 * per-instance step limit is refused before it starts instead of failing halfway (README, "Steps").
 */

/** Steps one Workflow instance may take (Cloudflare's default limit). */
export const WORKFLOW_STEP_LIMIT = 10_000;
/** Kept free for steps a run takes only when something goes wrong (a group timing out, a failure). */
export const STEP_RESERVE = 1_000;
/** The promotion gate after the run: one step, three when the agent has a gate. */
const GATE_STEPS_MAX = 3;

export type StepPlan = { epochs: number; batchSize: number; maxGroupsInFlight: number };

/**
 * Steps of a run over `samples` samples when nothing goes wrong: a start step; per batch a checkpoint,
 * one spawn per wave of groups, one wait per group and an update; a final checkpoint, a finish step and
 * the gate. Group instances have their own budget (2 steps each).
 */
export function plannedRunSteps(samples: number, plan: StepPlan): number {
  let perEpoch = 0;
  for (let start = 0; start < samples; start += plan.batchSize) {
    const groups = Math.min(plan.batchSize, samples - start);
    perEpoch += 2 + Math.ceil(groups / plan.maxGroupsInFlight) + groups;
  }
  return 1 + plan.epochs * perEpoch + 2 + GATE_STEPS_MAX;
}

/** Why a run does not fit, or null when it does. */
export function stepBudgetProblem(samples: number, plan: StepPlan): string | null {
  const steps = plannedRunSteps(samples, plan);
  const allowed = WORKFLOW_STEP_LIMIT - STEP_RESERVE;
  if (steps <= allowed) return null;
  return `this run would take ${steps} Workflow steps (${plan.epochs} epochs × ${samples} samples); a run may plan at most ${allowed} (the limit is ${WORKFLOW_STEP_LIMIT} per instance, ${STEP_RESERVE} kept for retries and time-outs): use fewer epochs or a smaller data set`;
}
