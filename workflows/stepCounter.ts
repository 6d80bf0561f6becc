import type { WorkflowStep } from "cloudflare:workers";

/**
 * Counts the steps an instance declares. `run()` re-executes from the top on every replay, so the
 * count at the end of the final execution is exactly the steps the instance used.
 */
export function countSteps(step: WorkflowStep): { step: WorkflowStep; count: () => number } {
  let n = 0;
  const counted: WorkflowStep = {
    do: ((...args: Parameters<WorkflowStep["do"]>) => {
      n++;
      return (step.do as (...a: unknown[]) => unknown)(...args);
    }) as WorkflowStep["do"],
    sleep: (name, duration) => {
      n++;
      return step.sleep(name, duration);
    },
    sleepUntil: (name, timestamp) => {
      n++;
      return step.sleepUntil(name, timestamp);
    },
    waitForEvent: (name, options) => {
      n++;
      return step.waitForEvent(name, options);
    },
  };
  return { step: counted, count: () => n };
}
