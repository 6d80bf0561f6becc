/** Built-in data sets of the simulated task family: `sim-train` (100) and a disjoint `sim-test` (300). */
import { generateProblems, type SimProblem } from "./generator";

export { generateProblems, type SimProblem } from "./generator";

export type SimDatasetName = "sim-train" | "sim-test";
const TRAIN_SEED = 20251;
const TEST_SEED = 20252;
const cache = new Map<SimDatasetName, SimProblem[]>();

function build(name: SimDatasetName): SimProblem[] {
  if (name === "sim-train") return generateProblems(TRAIN_SEED, 100, "sim-train");
  // Held out: drop any question that also appears in the training set.
  const train = new Set(simDataset("sim-train").map((p) => p.question));
  const pool = generateProblems(TEST_SEED, 400, "sim-test")
    .filter((p) => !train.has(p.question))
    .slice(0, 300);
  return pool.map((p, i) => ({ ...p, id: `sim-test-${String(i + 1).padStart(3, "0")}` }));
}

export function simDataset(name: SimDatasetName): SimProblem[] {
  let rows = cache.get(name);
  if (!rows) {
    rows = build(name);
    cache.set(name, rows);
  }
  return rows.map((r) => ({ ...r, pitfalls: [...r.pitfalls] }));
}
