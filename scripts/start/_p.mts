import { runProgress } from "./progress";
const b = runProgress();
for (let i = 0; i <= 4; i++) { b.update({ status: "running", progress: { epoch: 1, batch: 0, epochs: 3, batchesPerEpoch: 1, groupsDone: i * 25, groupsTotal: 100, rolloutsDone: 0, rolloutsTotal: 0 }, batches: i > 2 ? [{ epoch: 1, batch: 0, meanAtG: 0.5 }] : [], llm: [{ promptTokens: i * 1000, completionTokens: 5 }] } as never); await new Promise(r => setTimeout(r, 300)); }
b.stop();
