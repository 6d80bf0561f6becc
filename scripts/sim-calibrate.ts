/** Prints the simulated model's calibration figures on sim-test (in-process): npm run sim:calibrate */
import { GOOD_LIBRARY, MISLEADING_LIBRARY, VAGUE_LIBRARY, measureAccuracy } from "../src/sim/calibration";
import { simDataset } from "../src/sim/dataset";

const test = simDataset("sim-test");
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
console.log(`sim-test: ${test.length} problems (simulated model sim-1)`);
for (const t of [0.3, 0.7, 1.0]) {
  const none = await measureAccuracy(test, [], t);
  const good = await measureAccuracy(test, GOOD_LIBRARY, t);
  const vague = await measureAccuracy(test, VAGUE_LIBRARY, t);
  const wrong = await measureAccuracy(test, MISLEADING_LIBRARY, t);
  console.log(
    `T=${t.toFixed(1)}  no library ${pct(none)}  good library ${pct(good)}  vague only ${pct(vague)}  (vague − none ${((vague - none) * 100).toFixed(1)} points)  wrong rules ${pct(wrong)}`,
  );
}
