import { app } from "./app";
import { runScheduled } from "./cron/scheduled";

export { TrainingRunWorkflow } from "../workflows/trainingRun";
export { TrainingSegmentWorkflow } from "../workflows/trainingSegment";
export { RolloutLaneWorkflow } from "../workflows/rolloutLane";
export { EvaluationWorkflow, EvaluationChunkWorkflow } from "../workflows/evaluation";
export { ProtocolWorkflow } from "../workflows/protocol";

export default {
  fetch: app.fetch,
  /** Cron trigger: scheduled retraining, recovery of stalled runs, capture retention (src/training/schedule.ts). */
  async scheduled(controller, env) {
    const r = await runScheduled(env, controller.scheduledTime);
    const failed = r.errors.length > 0 ? `; failed phases: ${r.errors.map((e) => e.phase).join(", ")}` : "";
    const decided = r.canaries.filter((s) => s.action !== "wait").map((s) => `${s.canaryId} ${s.action}`);
    console.log(
      `cron ${controller.cron}: started ${r.started.length}, skipped ${r.skipped.length}, recovered ${r.recovered.length}, purged ${r.purgedCaptures} captures, ${r.texts?.objects ?? 0} texts, canaries ${r.canaries.length}${decided.length ? ` (${decided.join(", ")})` : ""}${failed}`,
    );
  },
} satisfies ExportedHandler<Env>;
