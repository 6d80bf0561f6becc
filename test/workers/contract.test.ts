import { env } from "cloudflare:test";
import type { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { api } from "../../src/routes/api";
import { simDataset } from "../../src/sim";
import { call, json } from "./helpers";

/**
 * Every admin route's success response, as actually served, validates against the schema its route
 * declares (the one /api/openapi.json is generated from), and carries no field the schema leaves out.
 * The test drives each route once and fails if a registered route was never checked, so a new route
 * must be added here.
 */

type Declared = { method: string; path: string; responses: Record<string, { content?: { "application/json"?: { schema?: z.ZodType } } }> };

const declared: Declared[] = api.openAPIRegistry.definitions.flatMap((d) =>
  d.type === "route"
    ? [{ method: d.route.method.toUpperCase(), path: d.route.path, responses: d.route.responses as Declared["responses"] }]
    : [],
);

/** Which declared route a concrete path belongs to (`/runs/run_1/cancel` → `/runs/{run}/cancel`). */
function routeOf(method: string, path: string): Declared {
  const bare = path.split("?")[0]!.replace(/^\/api/, "");
  const candidates = declared.filter((r) => {
    if (r.method !== method) return false;
    const pattern = new RegExp(`^${r.path.replace(/\{[^}]+\}/g, "[^/]+")}/?$`);
    return pattern.test(bare);
  });
  // A literal segment beats a parameter (`/datasets/builtin` over `/datasets/{dataset}`).
  candidates.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0));
  const route = candidates[0];
  if (!route) throw new Error(`no declared route for ${method} ${bare}`);
  return route;
}

/** Removes keys a schema does not declare; a body equal to its stripped self has no undeclared field. */
const checked = new Set<string>();

async function expectConforming<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  const res = await (headers ? call(method, path, body, headers) : call(method, path, body));
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
  const route = routeOf(method, path);
  const schema = route.responses[String(res.status)]?.content?.["application/json"]?.schema;
  expect(schema, `${method} ${route.path} declares no schema for ${res.status}`).toBeDefined();
  const parsed = JSON.parse(text) as unknown;
  const result = schema!.safeParse(parsed);
  expect(result.success, `${method} ${route.path} → ${res.status} does not match its schema: ${result.error?.message}`).toBe(true);
  expect(result.data, `${method} ${route.path} returns fields its schema does not declare`).toEqual(parsed);
  checked.add(`${route.method} ${route.path}`);
  return parsed as T;
}

async function waitFor<T extends { status: string }>(path: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await json<T>(await call("GET", path));
    if (!["queued", "running"].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`${path} still ${body.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("every admin route answers with the shape it declares", () => {
  it("covers agents, keys, datasets, runs, evaluations, library, promotions, protocols, usage and serving", {
    timeout: 170_000,
  }, async () => {
    const agent = await expectConforming<{ id: string }>("POST", "/api/agents", {
      name: "contract",
      upstream: { baseUrl: "sim://local", model: "sim-1" },
      systemPrompt: "Solve the word problem step by step and give the final answer in \\boxed{}.",
      verifier: { kind: "math" },
      gate: { dataset: "contract-set", k: 1 },
      schedule: { everyHours: 24, trainingDataset: "contract-set", enabled: false },
      capture: { enabled: true, retentionDays: 1 },
    });
    await expectConforming("GET", "/api/agents");
    await expectConforming("GET", "/api/agents/contract");
    await expectConforming("PATCH", "/api/agents/contract", { objective: "Answer exactly." });

    const key = await expectConforming<{ id: string }>("POST", "/api/agents/contract/keys", { name: "laptop" });
    await expectConforming("GET", "/api/agents/contract/keys");
    await expectConforming("POST", "/api/maintenance/reseal-keys");

    const rows = simDataset("sim-train")
      .slice(0, 6)
      .map((p) => JSON.stringify({ id: p.id, question: p.question, answer: p.answer }));
    await expectConforming("POST", "/api/datasets?name=contract-set", rows.join("\n"), {
      authorization: "Bearer test-admin-token",
      "content-type": "application/x-ndjson",
    });
    await expectConforming("GET", "/api/datasets");
    await expectConforming("GET", "/api/datasets/contract-set");
    await expectConforming("GET", "/api/datasets/contract-set/samples?limit=3");
    await expectConforming("GET", "/api/datasets/builtin");
    await expectConforming("POST", "/api/datasets/builtin/aime24?name=spare");
    await expectConforming("DELETE", "/api/datasets/spare");

    const run = await expectConforming<{ id: string }>("POST", "/api/runs", {
      agent: "contract",
      dataset: "contract-set",
      epochs: 1,
      groupSize: 2,
    });
    await expectConforming("POST", `/api/runs/${run.id}/recover`);
    await waitFor(`/api/runs/${run.id}`, 120_000);
    await expectConforming("GET", `/api/runs/${run.id}`);
    await expectConforming("GET", "/api/runs?agent=contract");
    await expectConforming("GET", `/api/runs/${run.id}/rollouts?limit=5`);
    const storage = await expectConforming<{ r2: { objects: number } }>("GET", `/api/runs/${run.id}/storage`);
    expect(storage.r2.objects).toBeGreaterThan(0);
    const groups = await expectConforming<{ data: { status: string; operations: unknown[] }[] }>(
      "GET",
      `/api/runs/${run.id}/groups?epoch=1`,
    );
    expect(groups.data.length).toBeGreaterThan(0);

    const versions = await expectConforming<{ data: { version: number }[] }>("GET", "/api/agents/contract/library/versions");
    const latest = versions.data[0]?.version ?? 0;
    expect(latest).toBeGreaterThan(0);
    await expectConforming("GET", `/api/agents/contract/library/versions/${latest}`);
    await expectConforming("GET", `/api/agents/contract/library/diff?from=0&to=${latest}`);
    await expectConforming("POST", "/api/agents/contract/library/versions", {
      base: latest,
      operations: [{ op: "add", text: "Units: an hour is 60 minutes." }],
      author: "contract",
      reason: "contract test",
    });
    await expectConforming("GET", `/api/agents/contract/library/${latest}/export`);
    const reference = await expectConforming("GET", `/api/agents/contract/library/${latest}/export?format=reference`);
    await expectConforming("POST", "/api/agents/contract/library/import?author=contract&reason=contract%20test", JSON.stringify(reference));

    const evaluation = await expectConforming<{ id: string }>("POST", "/api/evaluations", {
      agent: "contract",
      dataset: "contract-set",
      versions: [latest, "none"],
      k: 1,
    });
    await expectConforming("POST", `/api/evaluations/${evaluation.id}/recover`);
    await waitFor(`/api/evaluations/${evaluation.id}`, 60_000);
    await expectConforming("GET", `/api/evaluations/${evaluation.id}?detail=1`);
    await expectConforming("GET", "/api/evaluations?agent=contract");

    await expectConforming("POST", "/api/agents/contract/promote", { version: latest });
    // The run's gate may have decided too: its figures are part of the promotion's schema.
    await expectConforming("GET", "/api/agents/contract/promotions");

    // A canary of the latest version next to no library; its end carries a canary's figures.
    await expectConforming("POST", "/api/agents/contract/promote", { version: 0 });
    await expectConforming("PUT", "/api/agents/contract/canary", { version: latest, percent: 10, stickyBy: "header:x-user" });
    await expectConforming("GET", "/api/agents/contract/canary");
    await expectConforming("GET", "/api/agents/contract/versions/live");
    await expectConforming("PATCH", "/api/agents/contract/canary", { percent: 30 });
    await expectConforming("DELETE", "/api/agents/contract/canary");
    const decisions = await expectConforming<{ data: { decision: string; figures: unknown }[] }>("GET", "/api/agents/contract/promotions");
    expect(decisions.data[0]).toMatchObject({ decision: "ended", figures: { candidateVersion: latest, activeVersion: 0 } });

    const proxyAuth = { authorization: `Bearer ${(await json<{ key: string }>(await call("POST", "/api/agents/contract/keys", {}))).key}` };
    const chat = await call(
      "POST",
      "/v1/chat/completions",
      { model: "sim-1", messages: [{ role: "user", content: "What is 2 + 2?" }] },
      proxyAuth,
    );
    expect(chat.status).toBe(200);
    await chat.text();
    const requestId = chat.headers.get("x-request-id") ?? "";
    for (let i = 0; i < 100 && !(await env.DB.prepare("SELECT 1 FROM captures WHERE request_id = ?").bind(requestId).first()); i++)
      await new Promise((r) => setTimeout(r, 50));
    const feedbackIds: string[] = [];
    for (const body of [
      { request_id: requestId, answer: "4" },
      { request_id: requestId, comment: "fine" },
    ]) {
      feedbackIds.push((await json<{ id: string }>(await call("POST", "/v1/feedback", body, proxyAuth))).id);
    }
    // A replay evaluation of the captured request: the same routes, the replay's own fields.
    const replayed = await expectConforming<{ id: string }>("POST", "/api/evaluations", {
      kind: "replay",
      agent: "contract",
      versions: [latest, "none"],
      sample: 1,
      G: 1,
    });
    await waitFor(`/api/evaluations/${replayed.id}`, 60_000);
    await expectConforming("GET", `/api/evaluations/${replayed.id}?detail=1`);
    await expectConforming("GET", "/api/agents/contract/feedback?status=pending");
    await expectConforming("POST", `/api/agents/contract/feedback/${feedbackIds[0]}/approve`);
    await expectConforming("POST", `/api/agents/contract/feedback/${feedbackIds[1]}/reject`);
    await expectConforming("GET", "/api/agents/contract/usage");
    await expectConforming("GET", "/api/serving/stats");
    await expectConforming("POST", "/api/serving/stats/reset");

    const protocol = await expectConforming<{ id: string; runId: string }>("POST", "/api/protocols/paper", {
      agent: "contract",
      overrides: { epochs: 1, groupSize: 1, k: 1 },
    });
    await expectConforming("POST", `/api/runs/${protocol.runId}/cancel`);
    await expectConforming("GET", `/api/protocols/${protocol.id}`);
    await expectConforming("DELETE", `/api/runs/${protocol.runId}`);

    await expectConforming("POST", "/api/recovery", { olderThanSeconds: 3600 });
    await expectConforming("DELETE", `/api/agents/contract/keys/${key.id}`);
    expect(agent.id).toMatch(/^agt_/);

    const unchecked = declared.map((r) => `${r.method} ${r.path}`).filter((r) => !checked.has(r) && r !== "DELETE /agents/{agent}");
    expect(unchecked, "routes this test never checked").toEqual([]);
    // Deleting the agent comes last: everything above belongs to it.
    await expectConforming("DELETE", "/api/agents/contract");
  });

  it("/api/openapi.json describes every success response with its properties", async () => {
    type Schema = {
      $ref?: string;
      properties?: Record<string, unknown>;
      allOf?: Schema[];
      anyOf?: Schema[];
      additionalProperties?: unknown;
    };
    const doc = await json<{
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>>;
      components: { schemas: Record<string, Schema> };
    }>(await call("GET", "/api/openapi.json"));
    const resolve = (s: Schema): Schema => {
      if (s.$ref) return resolve(doc.components.schemas[s.$ref.split("/").pop()!]!);
      if (s.allOf) return { properties: Object.assign({}, ...s.allOf.map((part) => resolve(part).properties ?? {})) };
      return s;
    };
    const opaque: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (!status.startsWith("2")) continue;
          const schema = response.content?.["application/json"]?.schema;
          if (!schema) {
            opaque.push(`${method} ${path} ${status}: no schema`);
            continue;
          }
          const r = resolve(schema);
          // A union (a library file in either format) is described when each of its shapes is: properties, or typed values of a map.
          const shapes = r.anyOf ? r.anyOf.map(resolve) : [r];
          const described = (x: Schema) =>
            (x.properties !== undefined && Object.keys(x.properties).length > 0) || typeof x.additionalProperties === "object";
          if (!shapes.every(described)) opaque.push(`${method} ${path} ${status}: no properties`);
        }
      }
    }
    expect(opaque).toEqual([]);
  });
});
