import { createSimulatedModel, type SimOptions } from "../../../src/sim/index";

export type ChatBody = Record<string, unknown>;

export function chatRequest(
  body: ChatBody,
  init: { headers?: Record<string, string>; query?: string; signal?: AbortSignal } = {},
): Request {
  return new Request(`http://sim.test/v1/chat/completions${init.query ?? ""}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
    body: JSON.stringify(body),
    signal: init.signal,
  });
}

type Completion = {
  id: string;
  model: string;
  choices: {
    index: number;
    message: { content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[] };
    finish_reason: string;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

/** One completion's text from an in-process model. */
export async function complete(model: ReturnType<typeof createSimulatedModel>, body: ChatBody): Promise<string> {
  const res = await model.fetch(chatRequest({ model: "sim-1", ...body }));
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  const json = (await res.json()) as Completion;
  return json.choices[0]?.message.content ?? "";
}

export async function completion(model: ReturnType<typeof createSimulatedModel>, body: ChatBody): Promise<Completion> {
  const res = await model.fetch(chatRequest({ model: "sim-1", ...body }));
  return (await res.json()) as Completion;
}

export function newModel(opts: SimOptions = {}): ReturnType<typeof createSimulatedModel> {
  return createSimulatedModel(opts);
}

/** Parses an SSE body into its data payloads (the last may be "[DONE]"). */
export async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .map((block) => block.trim())
    .filter((b) => b.startsWith("data: "))
    .map((b) => b.slice("data: ".length));
}
