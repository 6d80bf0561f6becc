import { describe, expect, it } from "vitest";
import { addressedPitfalls, classifyExperience, readExperiences } from "../../../src/sim/experienceMatch";
import { GENERIC_VAGUE, PITFALLS, type PitfallId } from "../../../src/sim/pitfalls";

const addresses = (text: string): PitfallId[] => [...addressedPitfalls(text).keys()];

describe("experience matching", () => {
  for (const p of PITFALLS) {
    it(`${p.id}: canonical and paraphrases address it (and only it); topic-only does not`, () => {
      for (const e of [p.experience, ...p.paraphrases]) {
        expect(addresses(`${e.name}: ${e.text}`), e.text).toEqual([p.id]);
        expect(e.text.split(/\s+/).length).toBeLessThanOrEqual(32);
      }
      expect(addresses(`${p.topicOnly.name}: ${p.topicOnly.text}`)).toEqual([]);
      expect(classifyExperience(p.topicOnly.name, p.topicOnly.text)).toEqual({ kind: "topic", pitfall: p.id });
    });
  }

  it("generic advice addresses nothing", () => {
    for (const e of GENERIC_VAGUE) {
      expect(addresses(e.text)).toEqual([]);
      expect(classifyExperience(e.name, e.text)).toEqual({ kind: "generic" });
    }
  });

  const cases: [string, PitfallId | null][] = [
    ["Include both endpoints.", "inclusive_count"],
    ["When counting a range, count both ends.", "inclusive_count"],
    ["last − first + 1", "inclusive_count"],
    ["Be careful with inclusive counting.", null],
    ["Do not count both endpoints.", null],
    ["Don't forget to count both endpoints of the range.", "inclusive_count"],
    ["Multiply before you add.", "order_of_operations"],
    ["Follow the order of operations.", null],
    ["Never work left to right; multiply before adding.", "order_of_operations"],
    ["Percentages are tricky.", null],
    ["To undo a 20% raise, divide by 1.2.", "percent_base"],
    ["Convert everything to the same unit first.", null],
    ["There are 60 minutes in an hour, so convert hours with 60.", "unit_conversion"],
    ["Watch out for negative numbers.", null],
    ["If a remainder is negative, add the modulus.", "negative_remainder"],
    ["Count the gaps between posts and add one.", "fence_posts"],
    ["Fences can be tricky.", null],
  ];
  for (const [text, expected] of cases) {
    it(`reads "${text}" as ${expected ?? "not addressing any pitfall"}`, () => {
      expect(addresses(text)).toEqual(expected ? [expected] : []);
    });
  }

  const stances: [string, string[]][] = [
    ["Do not count both endpoints.", ["inclusive_count:misleads"]],
    ["Include both endpoints.", ["inclusive_count:helps"]],
    ["Subtract the first from the last and add one.", ["inclusive_count:helps"]],
    ["Subtract the first from the last.", ["inclusive_count:misleads"]],
    ["Work left to right.", ["order_of_operations:misleads"]],
    ["Do not work left to right.", ["order_of_operations:helps"]],
    ["An hour has 100 minutes.", ["unit_conversion:misleads"]],
    ["2 hours is 120 minutes.", ["unit_conversion:helps"]],
    ["2 hours is 200 minutes.", ["unit_conversion:misleads"]],
    ["If the remainder is left negative, add the modulus.", ["negative_remainder:helps"]],
    ["The remainder stays negative.", ["negative_remainder:misleads"]],
    ["One post per gap along the fence.", ["fence_posts:misleads"]],
    ["Don't forget the post at the far end: add one to the gaps.", ["fence_posts:helps"]],
    ["Be careful with remainders of negative numbers.", []],
  ];
  for (const [text, expected] of stances) {
    it(`reads "${text}" as ${expected.join(", ") || "nothing"}`, () => {
      expect([...readExperiences(text)].map(([p, r]) => `${p}:${r.stance}`)).toEqual(expected);
    });
  }

  it("classifies the wrong rule as misleading, and lets a fix and a wrong rule on one pitfall cancel", () => {
    for (const p of PITFALLS)
      if (p.misleading) expect(classifyExperience(p.misleading.name, p.misleading.text)).toEqual({ kind: "misleading", pitfall: p.id });
    const both = `[E1] Fix: ${PITFALLS[0]?.experience.text}\n[E2] Wrong: ${PITFALLS[0]?.misleading?.text}`;
    expect(readExperiences(both).size).toBe(0);
    const lib = "[E3] Wrong: Work left to right.\n[E4] Units: Use 60 minutes per hour.";
    expect(readExperiences(lib).get("order_of_operations")).toEqual({ stance: "misleads", id: "E3" });
    expect(readExperiences(lib).get("unit_conversion")).toEqual({ stance: "helps", id: "E4" });
  });

  it("reports the library id of the line that addresses a pitfall", () => {
    const lib = "Experiences:\n[E1] Care: Be careful with numbers.\n[E7] Ends: Include both endpoints when counting a range.";
    expect(addressedPitfalls(lib).get("inclusive_count")).toBe("E7");
  });
});
