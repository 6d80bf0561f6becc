/**
 * Calibration of the simulated model against libraries written by hand, in words of our own
 * (test/fixtures/handWrittenLibraries.ts): advice is read by its meaning, so a paraphrase of the right
 * rule helps as much as the model's own wording, the wrong rule hurts, and vague advice does nothing.
 * Accuracy is on all 300 problems of sim-test at T = 0.7, one sample each, on common random numbers
 * (the same error draws for every library), so differences are the libraries' alone.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { GOOD_LIBRARY, MISLEADING_LIBRARY, measureAccuracy, type LibraryItem } from "../../../src/sim/calibration";
import { simDataset } from "../../../src/sim/dataset";
import { readExperiences } from "../../../src/sim/experienceMatch";
import { PITFALL_IDS, pitfallById } from "../../../src/sim/pitfalls";
import {
  FRESH_READINGS,
  HAND_VAGUE,
  HAND_WRITTEN,
  handLibrary,
  handVagueLibrary,
  type ArithmeticPitfallId,
} from "../../fixtures/handWrittenLibraries";

const T = 0.7;
const test = simDataset("sim-test");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const reading = (name: string, text: string) => [...readExperiences(`${name}: ${text}`)].map(([p, r]) => `${p}:${r.stance}`);

describe("the simulated model reads hand-written advice by its meaning", () => {
  for (const id of PITFALL_IDS) {
    it(`${id}: every hand-written fix helps with it (and nothing else); every wrong rule misleads`, () => {
      const sets = HAND_WRITTEN[id];
      const own = pitfallById(id).misleading;
      for (const e of [...sets.dev, ...sets.heldOut]) expect(reading(e.name, e.text), e.text).toEqual([`${id}:helps`]);
      for (const e of [...sets.misleading, ...(own ? [own] : [])]) expect(reading(e.name, e.text), e.text).toEqual([`${id}:misleads`]);
      expect(own).toBeDefined();
    });
  }

  it("hand-written vague advice neither helps nor misleads", () => {
    for (const e of HAND_VAGUE) expect(reading(e.name, e.text), e.text).toEqual([]);
  });

  it("reads most of a set written after the reader was finished (out of sample)", () => {
    const misses = FRESH_READINGS.filter(([want, text]) => reading("Lesson", text).join(",") !== want);
    for (const [want, text] of misses) console.log(`fresh set: read "${text}" as [${reading("Lesson", text).join(",")}], meant [${want}]`);
    expect(1 - misses.length / FRESH_READINGS.length).toBeGreaterThanOrEqual(0.8);
  });
});

describe(`accuracy on sim-test (${test.length} problems, T=${T})`, () => {
  const acc = new Map<string, number>();
  const measure = async (label: string, library: readonly LibraryItem[]) => {
    const a = await measureAccuracy(test, library, T);
    acc.set(label, a);
    return a;
  };
  const get = (label: string) => acc.get(label) ?? Number.NaN;

  beforeAll(async () => {
    await measure("none", []);
    await measure("sim's own wording", GOOD_LIBRARY);
    for (const w of [0, 1, 2]) {
      await measure(`hand-written dev #${w + 1}`, handLibrary("dev", w));
      await measure(`hand-written held-out #${w + 1}`, handLibrary("heldOut", w));
    }
    await measure("hand-written harmful #1", handLibrary("misleading", 0));
    await measure("hand-written harmful #2", handLibrary("misleading", 1));
    await measure("harmful on two pitfalls + vague", [
      ...handVagueLibrary(),
      ...pick(["inclusive_count", "order_of_operations"], "misleading", 100),
    ]);
    await measure("sim's own wrong rules", MISLEADING_LIBRARY);
    await measure("hand-written vague", handVagueLibrary());
    console.log([...acc].map(([k, v]) => `${k.padEnd(34)} ${pct(v)}`).join("\n"));
  }, 60_000);

  it("a paraphrased library helps like the model's own wording", () => {
    const own = get("sim's own wording");
    expect(own - get("none")).toBeGreaterThanOrEqual(0.3);
    for (const label of acc.keys()) {
      if (!label.startsWith("hand-written dev") && !label.startsWith("hand-written held-out")) continue;
      expect(get(label) - get("none"), label).toBeGreaterThanOrEqual(0.3);
      expect(Math.abs(get(label) - own), label).toBeLessThanOrEqual(0.03);
    }
  });

  it("a harmful library loses at least 10 points, even one that gets only two pitfalls wrong", () => {
    for (const label of [
      "hand-written harmful #1",
      "hand-written harmful #2",
      "harmful on two pitfalls + vague",
      "sim's own wrong rules",
    ]) {
      expect(get("none") - get(label), label).toBeGreaterThanOrEqual(0.1);
    }
  });

  it("vague advice neither helps nor hurts", () => {
    expect(get("hand-written vague")).toBe(get("none"));
  });

  it("the fix and the wrong rule for the same pitfall cancel out", async () => {
    const mixed = [...handLibrary("dev", 0), ...handLibrary("misleading", 0).map((e, i) => ({ ...e, id: `E${20 + i}` }))];
    expect(await measureAccuracy(test, mixed, T)).toBe(get("none"));
  });
});

function pick(ids: ArithmeticPitfallId[], set: "dev" | "misleading", from: number): LibraryItem[] {
  return ids.map((id, i) => ({ id: `E${from + i}`, ...(HAND_WRITTEN[id][set][0] ?? { name: "", text: "" }) }));
}
