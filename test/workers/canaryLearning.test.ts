import { createScheduledController, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { extractFinalAnswer, sameAnswer, simDataset } from "../../src/sim";
import { readExperiences } from "../../src/sim/experienceMatch";
import { PITFALL_IDS } from "../../src/sim/pitfalls";
import { HAND_WRITTEN, handLibrary, type HandItem } from "../fixtures/handWrittenLibraries";
import { call, json } from "./helpers";
import { covering, createSimAgent, pct, promotionsOf, uploadSlice, waitFor, waitForRun, type Promotion } from "./evalHelpers";
import { canaryState, chat, feedback, handMadeVersion, mintKey, startCanary } from "./canaryHelpers";

/**
 * Evidence for the canary (issue 19): the simulated model, which reads the advice in its prompt and is
 * harmed by wrong advice (docs/learning.md), answers real proxied traffic; the test plays the users, who
 * rate each answer 1 when it is right and 0 when not, on 4 answers of 5. A hand-made harmful candidate
 * canaried at 20% is rolled back by the rule as soon as the feedback shows it; a helpful one is promoted;
 * both decisions are recorded with their figures. A scheduled retrain with `gate.rollout: "canary"` ends
 * in a canary, not a promotion.
 */

/** The wrong rule for every pitfall, in words of our own (test/fixtures/handWrittenLibraries.ts). */
const HARMFUL: HandItem[] = PITFALL_IDS.map((id) => HAND_WRITTEN[id].misleading[0]!);
/** Right advice on three of the six pitfalls. */
const PARTIAL: HandItem[] = (["inclusive_count", "order_of_operations", "percent_base"] as const).map((id) => HAND_WRITTEN[id].dev[0]!);

const problems = simDataset("sim-test");
const USERS = 100;

type Outcome = { decision: Promotion; requests: number; served: Record<string, { requests: number; right: number }> };

/**
 * Plays the users until the canary ends (at most `max` requests): user i % 100 asks question i, and rates
 * the answer unless i % 5 === 0. Returns the canary's decision and what each version scored as served.
 */
async function playUntilDecided(agent: string, max: number): Promise<Outcome> {
  let key = "";
  const served: Outcome["served"] = {};
  let i = 0;
  for (; i < max; i++) {
    // A fresh key every 150 requests: one key may send 200 feedback messages a day (the agent's
    // capture.feedbackPerKeyPerDay), and the rule decides a little after the feedback that settles it.
    if (i % 150 === 0) key = await mintKey(agent);
    const problem = problems[i % problems.length]!;
    const reply = await chat(key, problem.question, 1000 + i, { "x-user-id": `user-${i % USERS}` });
    expect(reply.status).toBe(200);
    const answer = extractFinalAnswer(reply.text);
    const right = answer !== null && sameAnswer(answer, problem.answer);
    const version = reply.version ?? "none";
    const tally = served[version] ?? { requests: 0, right: 0 };
    served[version] = tally;
    tally.requests++;
    if (right) tally.right++;
    if (i % 5 !== 0) await feedback(key, reply.requestId, right ? 1 : 0);
    // The rule runs after each feedback off the response path; look now and then whether it has decided.
    if (i % 10 === 9 && (await canaryState(agent)).canary === null) break;
  }
  const promotions = await waitFor(
    `${agent}: the canary's decision`,
    () => promotionsOf(agent),
    (p) => p.data[0]?.decidedBy === "canary",
  );
  return { decision: promotions.data[0]!, requests: i + 1, served };
}

type Figures = {
  candidate: { requests: number; feedback: number; meanReward: number; rewardCi: { low: number; high: number } };
  active: { requests: number; feedback: number; meanReward: number; rewardCi: { low: number; high: number } };
  rewardDiff: { diff: number; ci: { low: number; high: number } };
};

const describeOutcome = (agent: string, o: Outcome) => {
  const f = o.decision.figures as unknown as Figures;
  const served = Object.entries(o.served)
    .map(([v, s]) => `v${v}: ${s.right}/${s.requests} right`)
    .join(", ");
  return (
    `${agent}: ${o.decision.decision} after ${o.requests} requests (${served}); candidate ${pct(f.candidate.meanReward)} ` +
    `on ${f.candidate.feedback} rated of ${f.candidate.requests}, active ${pct(f.active.meanReward)} on ${f.active.feedback} of ${f.active.requests}, ` +
    `diff ${pct(f.rewardDiff.diff)} [${pct(f.rewardDiff.ci.low)}, ${pct(f.rewardDiff.ci.high)}]`
  );
};

describe("canary with the simulated model", () => {
  it("the hand-made libraries read as intended: harmful misleads on every pitfall, partial helps on three", () => {
    const stances = (items: HandItem[]) =>
      [...readExperiences(items.map((e, i) => `[E${i + 1}] ${e.name}: ${e.text}`).join("\n"))].map(([p, r]) => `${p}:${r.stance}`).sort();
    expect(stances(HARMFUL)).toEqual(PITFALL_IDS.map((id) => `${id}:misleads`).sort());
    expect(stances(PARTIAL)).toEqual(["inclusive_count:helps", "order_of_operations:helps", "percent_base:helps"]);
    expect(stances(handLibrary("dev", 0))).toEqual(PITFALL_IDS.map((id) => `${id}:helps`).sort());
  });

  it(
    "rolls back a harmful candidate canaried at 20% as soon as the feedback shows it; the active version keeps serving",
    async () => {
      await createSimAgent("harm");
      const good = await handMadeVersion("harm", handLibrary("dev", 0), "helpful");
      const bad = await handMadeVersion("harm", HARMFUL, "harmful");
      await call("POST", "/api/agents/harm/promote", { version: good });
      await startCanary("harm", { version: bad, percent: 20, stickyBy: "header:x-user-id", minRequests: 30 });

      const outcome = await playUntilDecided("harm", 600);
      console.log(describeOutcome("harm", outcome));
      expect(outcome.decision).toMatchObject({ decidedBy: "canary", decision: "rolled_back", fromVersion: good, toVersion: bad });
      expect(outcome.decision.reason).toMatch(/^rolled back: reward regresses/);
      const f = outcome.decision.figures as unknown as Figures;
      expect(f.rewardDiff.ci.high).toBeLessThan(-0.05);
      // "At once": well before the promotion threshold of 30 rated requests in each arm.
      expect(f.candidate.feedback).toBeLessThan(30);
      expect(outcome.requests).toBeLessThan(200);
      const agent = await json<{ activeVersion: number }>(await call("GET", "/api/agents/harm"));
      expect(agent.activeVersion).toBe(good);
      // Every user gets the active version now, the candidate's users included.
      const key = await mintKey("harm");
      for (let u = 0; u < 20; u++)
        expect((await chat(key, problems[u]!.question, u, { "x-user-id": `user-${u}` })).version).toBe(String(good));
      expect((await canaryState("harm")).history[0]).toMatchObject({ status: "rolled_back" });
    },
    covering(1, 60_000),
  );

  it(
    "promotes a helpful candidate canaried at 20% once each arm has 30 rated requests and it is not worse",
    async () => {
      await createSimAgent("help");
      const partial = await handMadeVersion("help", PARTIAL, "partial");
      const full = await handMadeVersion("help", handLibrary("dev", 0), "helpful");
      await call("POST", "/api/agents/help/promote", { version: partial });
      await startCanary("help", { version: full, percent: 20, stickyBy: "header:x-user-id", minRequests: 30 });

      const outcome = await playUntilDecided("help", 800);
      console.log(describeOutcome("help", outcome));
      expect(outcome.decision).toMatchObject({ decidedBy: "canary", decision: "promoted", fromVersion: partial, toVersion: full });
      const f = outcome.decision.figures as unknown as Figures;
      expect(f.candidate.feedback).toBeGreaterThanOrEqual(30);
      expect(f.active.feedback).toBeGreaterThanOrEqual(30);
      expect(f.rewardDiff.ci.low).toBeGreaterThanOrEqual(-0.02);
      expect(f.candidate.meanReward).toBeGreaterThan(f.active.meanReward);
      expect((await json<{ activeVersion: number }>(await call("GET", "/api/agents/help"))).activeVersion).toBe(full);
      const key = await mintKey("help");
      for (let u = 0; u < 20; u++)
        expect((await chat(key, problems[u]!.question, u, { "x-user-id": `user-${u}` })).version).toBe(String(full));
      const history = (await promotionsOf("help")).data.map((p) => `${p.decidedBy}:${p.decision}`);
      expect(history).toEqual(["canary:promoted", "manual:canary_started", "manual:promoted"]);
    },
    covering(1, 90_000),
  );

  it(
    "a scheduled retrain whose gate says rollout 'canary' starts a canary instead of promoting",
    async () => {
      await uploadSlice("canary-train", "sim-train", 0, 20);
      await uploadSlice("canary-holdout", "sim-test", 200, 230);
      await createSimAgent("rollout", {
        gate: {
          dataset: "canary-holdout",
          k: 4,
          temperature: 0.7,
          margin: 0.02,
          rollout: "canary",
          canary: { percent: 25, stickyBy: "header:x-user-id", minRequests: 40 },
        },
        schedule: { everyHours: 6, trainingDataset: "canary-train", hyperparams: { epochs: 1, groupSize: 5, maxGroupsInFlight: 40 } },
      });
      await worker.scheduled(createScheduledController({ scheduledTime: Date.UTC(2026, 4, 1, 9, 0), cron: "*/15 * * * *" }), env);
      const runs = await json<{ data: { id: string; kind: string }[] }>(await call("GET", "/api/runs?agent=rollout"));
      expect(runs.data).toHaveLength(1);
      const run = await waitForRun(runs.data[0]!.id, 100_000);
      expect(run).toMatchObject({ status: "completed", kind: "scheduled" });
      const promotions = await waitFor(
        "the gate's decision",
        () => promotionsOf("rollout"),
        (p) => p.data.length > 0,
        100_000,
      );
      const decision = promotions.data[0]!;
      console.log(`rollout: ${decision.decision}: ${decision.reason}`);
      expect(decision).toMatchObject({
        decidedBy: "schedule",
        decision: "canary_started",
        fromVersion: null,
        toVersion: run.latestVersion,
        runId: run.id,
      });
      expect(decision.figures).toMatchObject({ candidateVersion: run.latestVersion, activeVersion: 0, margin: 0.02 });
      // Nothing was promoted: the candidate serves only its canary's share.
      expect(promotions.active).toBeNull();
      const state = await canaryState("rollout");
      expect(state.canary).toMatchObject({
        version: run.latestVersion,
        baseVersion: null,
        percent: 25,
        stickyBy: "header:x-user-id",
        startedBy: "schedule",
        status: "running",
      });
      expect(state.canary!.id).toBe(`cny_${run.id}`);
      const key = await mintKey("rollout");
      const versions = new Set<string | null>();
      for (let u = 0; u < 24; u++) versions.add((await chat(key, problems[u]!.question, u, { "x-user-id": `user-${u}` })).version);
      expect(versions).toEqual(new Set(["none", String(run.latestVersion)]));
    },
    covering(3),
  );
});
