import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { responseTextOf } from "../../src/core/capture";
import { simDataset } from "../../src/sim";
import { call, json } from "./helpers";
import { SYSTEM, createSimAgent, waitFor } from "./evalHelpers";

/**
 * Capture on every surface (docs/serving.md, "Surfaces"): an exchange made through the Responses API or
 * Anthropic's Messages API is stored with its question and answer, as one through chat completions is,
 * so feedback on it can be approved and a replay can send it again.
 */

const questions = simDataset("sim-test").map((p) => p.question);
type CaptureRow = { request_id: string; question: string; response_text: string };
async function captureOf(requestId: string): Promise<CaptureRow> {
  const rows = await waitFor(
    `capture ${requestId}`,
    async () => (await env.DB.prepare("SELECT * FROM captures WHERE request_id = ?").bind(requestId).all<CaptureRow>()).results,
    (found) => found.length === 1,
  );
  return rows[0] as CaptureRow;
}

async function mint(agent: string): Promise<string> {
  return (await json<{ key: string }>(await call("POST", `/api/agents/${agent}/keys`, {}))).key;
}

/** Sends one request; returns the request id and the assistant text as the client received it. */
async function send(path: string, body: Record<string, unknown>, headers: Record<string, string>, stream: boolean) {
  const res = await call("POST", path, { ...body, stream }, headers);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return { requestId: res.headers.get("x-request-id") ?? "", answer: responseTextOf(stream ? "sse" : "json", text) };
}

describe("capture on the Responses and Messages surfaces", () => {
  it("stores the question and the answer of /v1/responses exchanges, streamed and not, and their feedback can be approved", async () => {
    await createSimAgent("cap-responses", { capture: { enabled: true, retentionDays: 7 } });
    const auth = { authorization: `Bearer ${await mint("cap-responses")}` };
    for (const [i, stream] of [false, true].entries()) {
      const input = i === 0 ? questions[i]! : [{ type: "message", role: "user", content: [{ type: "input_text", text: questions[i]! }] }];
      const sent = await send("/v1/responses", { model: "sim-1", instructions: SYSTEM, input }, auth, stream);
      expect(sent.answer).toContain("\\boxed");
      const row = await captureOf(sent.requestId);
      expect(row.question).toBe(questions[i]);
      expect(row.response_text).toBe(sent.answer);
    }
    const [first] = (await env.DB.prepare("SELECT request_id FROM captures ORDER BY created_at").all<{ request_id: string }>()).results;
    const fb = await json<{ id: string }>(await call("POST", "/v1/feedback", { request_id: first!.request_id, reward: 1 }, auth));
    const approved = await call("POST", `/api/agents/cap-responses/feedback/${fb.id}/approve`);
    expect(approved.status, await approved.clone().text()).toBe(200);
  });

  it("stores the question and the answer of /v1/messages exchanges for an Anthropic upstream, streamed and not", async () => {
    const created = await call("POST", "/api/agents", {
      name: "cap-messages",
      upstream: { baseUrl: "sim://local?api=anthropic", model: "sim-1", format: "anthropic" },
      systemPrompt: SYSTEM,
      capture: { enabled: true, retentionDays: 7 },
    });
    expect(created.status).toBe(201);
    const auth = { "x-api-key": await mint("cap-messages"), "anthropic-version": "2023-06-01" };
    for (const [i, stream] of [false, true].entries()) {
      const content = i === 0 ? questions[i]! : [{ type: "text", text: questions[i]! }];
      const sent = await send(
        "/v1/messages",
        { model: "sim-1", max_tokens: 512, system: SYSTEM, messages: [{ role: "user", content }] },
        auth,
        stream,
      );
      expect(sent.answer).toContain("\\boxed");
      const row = await captureOf(sent.requestId);
      expect(row.question).toBe(questions[i]);
      expect(row.response_text).toBe(sent.answer);
    }
  });
});
