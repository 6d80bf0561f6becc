/**
 * The meter inside workerd (test/unit/serving/meter.test.ts covers Node). That a slow stream reaches
 * the client as it comes — a pending `readAtLeast` on the watched branch once held the client's branch
 * back until the end — shows only with a real upstream: test/e2e/surfaces.e2e.test.ts, "cancellation".
 */
import { describe, expect, it } from "vitest";
import { meterBody } from "../../src/serving/meter";
import { sourceStream } from "../support/streams";

describe("meterBody in workerd", () => {
  it("finds the usage of many small chunks of a byte stream", async () => {
    const parts = [
      ...Array.from({ length: 400 }, (_, i) => `data: {"choices":[{"delta":{"content":"t${i}"}}],"usage":null}\n\n`),
      `data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":400,"prompt_tokens_details":{"cached_tokens":8}}}\n\n`,
      "data: [DONE]\n\n",
    ];
    const meter = meterBody("sse", sourceStream(parts, { bytes: true }).stream);
    expect(await new Response(meter.body).text()).toBe(parts.join(""));
    const result = await meter.result;
    expect(result).toMatchObject({ completed: true, usage: { promptTokens: 12, completionTokens: 400, cachedTokens: 8 } });
    expect(result.firstByteAt).not.toBeNull();
  });

  it("stops a hanging byte stream and cancels the source once the client is gone too", async () => {
    const { stream, state } = sourceStream(["data: 1\n\n", "data: 2\n\n"], { hang: true, bytes: true });
    const meter = meterBody("sse", stream);
    const reader = meter.body.getReader();
    await reader.read();
    const clientGone = reader.cancel();
    meter.stop();
    await clientGone;
    expect(await meter.result).toMatchObject({ completed: false, usage: null });
    // The client's branch is cancelled through its pipe (meter.ts, clientSide): a few ticks later.
    for (let i = 0; i < 100 && !state.cancelled; i++) await new Promise((r) => setTimeout(r, 10));
    expect(state.cancelled).toBe(true);
  });
});
