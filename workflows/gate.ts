import type { WorkflowStep } from "cloudflare:workers";
import { decideAfterGate, prepareGate } from "../src/training/gate";
import { GATE_STEPS, evaluationDoneEvent } from "./steps";
import { rethrowEngineAbort } from "./engine";

/** How long a finished run waits for its gate evaluation. */
export const GATE_TIMEOUT = "24 hours";

/**
 * The end of a training run: gated promotion of its final version. Three steps — start the gate
 * evaluation (a child Workflow), wait for its event, decide — all no-ops when the agent has no gate
 * or the run did not complete. Called once, after the run's `finish` step.
 */
export async function gateAfterRun(env: Env, step: WorkflowStep, runId: string, instanceId: string): Promise<void> {
  const type = evaluationDoneEvent(`gate-${runId}`);
  const plan = await step.do(GATE_STEPS.start, () => prepareGate(env, runId, { binding: "TRAINING_RUN", instanceId, type }));
  if (!plan) return;
  try {
    await step.waitForEvent(GATE_STEPS.wait, { type, timeout: GATE_TIMEOUT });
  } catch (error) {
    rethrowEngineAbort(error);
    // Timed out: the decision step records a refusal unless the evaluation finished after all.
  }
  await step.do(GATE_STEPS.decide, () => decideAfterGate(env, runId, plan));
}
