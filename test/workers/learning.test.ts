import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, call, json } from "./helpers";
import { simDataset } from "../../src/sim";
import { createSimAgent, uploadSlice, waitForRun } from "./evalHelpers";

type Item = { id: string; text: string; stats?: { cited: number; helpful: number; harmful: number; batches: number } };
const rows = async <T>(query: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(query)
      .bind(...binds)
      .all<T>()
  ).results;

describe("no-ground-truth training with credit per experience", () => {
  it("keeps every group, shows the reviewer no answer, and carries credit by stable id across versions", { timeout: 120_000 }, async () => {
    await uploadSlice("blind-train", "sim-train", 0, 16);
    await createSimAgent("blind", { trainingDefaults: { groundTruth: false } });
    const { id } = await json<{ id: string }>(
      await call("POST", "/api/runs", { agent: "blind", dataset: "blind-train", epochs: 2, groupSize: 4, seed: 3 }),
    );
    const run = (await waitForRun(id)) as Awaited<ReturnType<typeof waitForRun>> & {
      groups: { kept: number; skipped: number; dropped: number };
    };
    expect(run.status).toBe("completed");
    expect(run.groups.skipped).toBe(0);
    expect(run.groups.kept + run.groups.dropped).toBe(32);

    // The reviewer judged by soundness: its summaries never name a reference answer, its critique no rewards.
    // Read through the API: long texts are in R2 (docs/architecture.md §11).
    const rollouts = await json<{ data: { summary: string | null }[] }>(await call("GET", `/api/runs/${id}/rollouts?limit=500`));
    const summaries = rollouts.data.flatMap((r) => (r.summary === null ? [] : [r.summary]));
    expect(summaries.length).toBeGreaterThan(0);
    for (const summary of summaries) {
      expect(summary).toMatch(/no reference answer was given/);
      expect(summary).not.toMatch(/the reference answer is/);
    }
    const groups = await json<{ data: { status: string; advantage: string | null }[] }>(await call("GET", `/api/runs/${id}/groups`));
    const critiques = groups.data.filter((g) => g.status === "kept");
    expect(critiques.length).toBeGreaterThan(0);
    for (const c of critiques) expect(c.advantage).not.toMatch(/succeeded and attempts/);

    // Counters: stored with every version, accumulated by stable id, and shown in diffs.
    const versions = await json<{ data: { version: number }[] }>(await call("GET", "/api/agents/blind/library/versions"));
    const [latest, first] = [versions.data[0]!.version, versions.data[versions.data.length - 1]!.version];
    expect(latest).toBeGreaterThan(first);
    const v1 = await json<{ items: Item[] }>(await call("GET", `/api/agents/blind/library/versions/${first}`));
    const v2 = await json<{ items: Item[] }>(await call("GET", `/api/agents/blind/library/versions/${latest}`));
    expect(v2.items.length).toBeGreaterThan(0);
    const carried = v2.items.filter((item) => v1.items.some((i) => i.id === item.id));
    expect(carried.length).toBeGreaterThan(0);
    for (const item of carried) {
      const before = v1.items.find((i) => i.id === item.id)!.stats!;
      expect(item.stats!.batches).toBe(before.batches + 1);
      expect(item.stats!.cited).toBeGreaterThanOrEqual(before.cited);
    }
    expect(v2.items.some((i) => i.stats!.cited > 0 && i.stats!.helpful > 0)).toBe(true);
    const diff = await json<{ added: Item[] }>(await call("GET", `/api/agents/blind/library/diff?from=0&to=${latest}`));
    expect(diff.added.every((i) => i.stats !== undefined)).toBe(true);
    // Samples without answers train only without ground truth.
    const unlabelled = simDataset("sim-train")
      .slice(40, 46)
      .map((p) => JSON.stringify({ question: p.question }))
      .join("\n");
    const up = await call("POST", "/api/datasets?name=blind-unlabelled", unlabelled, { ...ADMIN, "content-type": "application/x-ndjson" });
    expect(up.status).toBe(201);
    const refusedRun = await call("POST", "/api/runs", {
      agent: "blind",
      dataset: "blind-unlabelled",
      groundTruth: true,
      epochs: 1,
      groupSize: 2,
    });
    expect(refusedRun.status).toBe(400);
    expect(await refusedRun.json()).toMatchObject({ error: { code: "unlabelled_samples", param: "groundTruth" } });
    const accepted = await json<{ id: string }>(
      await call("POST", "/api/runs", { agent: "blind", dataset: "blind-unlabelled", epochs: 1, groupSize: 2 }),
    );
    expect((await waitForRun(accepted.id)).status).toBe("completed");
    // No vague item made it into the library; refusals were recorded with their reason.
    const refused = await rows<{ refused: string }>("SELECT refused FROM groups WHERE run_id = ? AND refused != '[]'", id);
    for (const r of refused) expect(JSON.parse(r.refused)[0].reason).toMatch(/^vague: /);
  });
});
