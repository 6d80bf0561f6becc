import { app } from "./app";

export { TrainingRunWorkflow } from "../workflows/trainingRun";
export { RolloutGroupWorkflow } from "../workflows/rolloutGroup";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
