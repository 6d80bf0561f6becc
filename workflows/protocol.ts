import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { finishProtocol, pollProtocolRun, startProtocolEvaluations } from "../src/protocol/paper";
import { PROTOCOL_STEPS, evaluationDoneEvent } from "../src/durable/steps";
import { rethrowEngineAbort } from "../src/durable/instances";

export type ProtocolWorkflowParams = { protocolId: string };

/** Polls before giving up on a run (at the default 60 s, about 66 hours; two steps per poll). */
const MAX_POLLS = 4000;
export const PROTOCOL_EVAL_TIMEOUT = "48 hours";

/**
 * The paper's protocol after its run started: wait (durably sleeping) for the run to finish, then
 * evaluate its final version against none on each evaluation data set, in parallel child Workflows.
 */
export class ProtocolWorkflow extends WorkflowEntrypoint<Env, ProtocolWorkflowParams> {
  override async run(event: WorkflowEvent<ProtocolWorkflowParams>, step: WorkflowStep): Promise<string> {
    const { protocolId } = event.payload;
    try {
      let finished: Awaited<ReturnType<typeof pollProtocolRun>> | null = null;
      for (let i = 0; i < MAX_POLLS && finished === null; i++) {
        const state = await step.do(PROTOCOL_STEPS.poll(i), () => pollProtocolRun(this.env, protocolId));
        if (state.done) finished = state;
        else await step.sleep(PROTOCOL_STEPS.sleep(i), state.pollSeconds * 1000);
      }
      if (finished?.status !== "completed") {
        const error = finished ? `training run ${finished.status}` : "training run did not finish in time";
        await step.do(PROTOCOL_STEPS.fail, async () => {
          await finishProtocol(this.env, protocolId, error);
          return true;
        });
        return "failed";
      }
      const version = finished.version;
      const eventType = (i: number) => evaluationDoneEvent(`${protocolId}-${i}`);
      const ids = await step.do(PROTOCOL_STEPS.evaluate, () =>
        startProtocolEvaluations(this.env, protocolId, event.instanceId, version, eventType),
      );
      await Promise.all(
        ids.map((_, i) =>
          step.waitForEvent(PROTOCOL_STEPS.wait(i), { type: eventType(i), timeout: PROTOCOL_EVAL_TIMEOUT }).catch(() => null),
        ),
      );
      await step.do(PROTOCOL_STEPS.finish, async () => {
        await finishProtocol(this.env, protocolId, null);
        return true;
      });
      return "completed";
    } catch (error) {
      rethrowEngineAbort(error);
      const message = error instanceof Error ? error.message : String(error);
      await step.do(PROTOCOL_STEPS.fail, async () => {
        await finishProtocol(this.env, protocolId, message);
        return true;
      });
      return "failed";
    }
  }
}
