import type { HttpToolSpec } from "./specs";

export const HTTP_TOOL_DEFAULT_TIMEOUT_MS = 10_000;
/** Bytes of a tool server's reply read at most; the rest is dropped and the result marked truncated. */
export const HTTP_TOOL_MAX_BYTES = 16 * 1024;

export type ToolOutcome = { output: string; isError: boolean };

async function readCapped(response: Response, cap: number): Promise<{ text: string; truncated: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) return { text: "", truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.length > cap) {
      chunks.push(value.slice(0, cap - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return { text: new TextDecoder().decode(all), truncated };
}

/**
 * The user's own tool: the call's arguments are POSTed as JSON to its URL; the reply (JSON or text,
 * size-capped) is the tool message. Every failure — down, slow, an error status, an unreadable reply —
 * becomes an error result for the model, never an exception.
 */
export async function callHttpTool(
  spec: HttpToolSpec,
  args: unknown,
  authorization: string | null,
  send: typeof fetch = fetch,
): Promise<ToolOutcome> {
  const timeoutMs = spec.timeoutMs ?? HTTP_TOOL_DEFAULT_TIMEOUT_MS;
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json, text/plain" };
  if (authorization) headers.authorization = authorization;
  let response: Response;
  try {
    response = await send(spec.url, {
      method: "POST",
      headers,
      body: JSON.stringify(args),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      output: JSON.stringify({
        error: timedOut ? `tool ${spec.name} did not answer within ${timeoutMs} ms` : `tool ${spec.name} is unreachable`,
      }),
      isError: true,
    };
  }
  let body: { text: string; truncated: boolean };
  try {
    body = await readCapped(response, HTTP_TOOL_MAX_BYTES);
  } catch {
    return { output: JSON.stringify({ error: `tool ${spec.name} broke off its reply` }), isError: true };
  }
  if (!response.ok) {
    return {
      output: JSON.stringify({ error: `tool ${spec.name} answered HTTP ${response.status}`, body: body.text.slice(0, 1000) }),
      isError: true,
    };
  }
  const isJson = (response.headers.get("content-type") ?? "").includes("json");
  if (isJson && !body.truncated) {
    try {
      return { output: JSON.stringify(JSON.parse(body.text)), isError: false };
    } catch {
      return { output: JSON.stringify({ error: `tool ${spec.name} sent malformed JSON`, body: body.text.slice(0, 1000) }), isError: true };
    }
  }
  return { output: body.truncated ? JSON.stringify({ result: body.text, truncated: true }) : body.text, isError: false };
}
