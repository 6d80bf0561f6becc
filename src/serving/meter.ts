/**
 * Watches a response body on its way to the client without holding it back: every chunk is enqueued
 * before it is looked at. Records the time of the first byte and the token usage the upstream
 * reported — from the SSE chunk carrying `usage` (streams) or from the JSON body (non-streamed).
 */

export type TokenUsage = { promptTokens: number | null; completionTokens: number | null; cachedTokens: number | null };

export type MeterResult = {
  usage: TokenUsage | null;
  /** Epoch ms of the first body chunk, null when there was none. */
  firstByteAt: number | null;
  /** Epoch ms when the body ended or was cancelled. */
  endedAt: number;
  /** False when the client went away (or the upstream failed) before the end. */
  completed: boolean;
};

export type BodyKind = "sse" | "json" | "other";

/** A JSON body larger than this is passed through but not parsed for usage. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;
/** An SSE line longer than this is skipped (no usage chunk is that long). */
const MAX_SSE_LINE = 1024 * 1024;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Reads an OpenAI `usage` object; null when absent or not an object. */
export function readUsage(value: unknown): TokenUsage | null {
  if (typeof value !== "object" || value === null) return null;
  const usage: unknown = Reflect.get(value, "usage");
  if (typeof usage !== "object" || usage === null) return null;
  const details: unknown = Reflect.get(usage, "prompt_tokens_details");
  return {
    promptTokens: num(Reflect.get(usage, "prompt_tokens")),
    completionTokens: num(Reflect.get(usage, "completion_tokens")),
    cachedTokens: typeof details === "object" && details !== null ? num(Reflect.get(details, "cached_tokens")) : null,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function bodyKind(contentType: string | null): BodyKind {
  const type = (contentType ?? "").toLowerCase();
  if (type.includes("text/event-stream")) return "sse";
  if (type.includes("json")) return "json";
  return "other";
}

/**
 * `result` settles when the body ends, is cancelled, or `stop()` is called (e.g. when the client's
 * request signal aborts), whichever comes first.
 */
export function meterBody(kind: BodyKind): {
  transform: TransformStream<Uint8Array, Uint8Array>;
  result: Promise<MeterResult>;
  stop: () => void;
} {
  const decoder = new TextDecoder();
  let firstByteAt: number | null = null;
  let usage: TokenUsage | null = null;
  let pending = "";
  let jsonText = "";
  let jsonBytes = 0;
  let settle: (r: MeterResult) => void = () => undefined;
  const result = new Promise<MeterResult>((resolve) => {
    settle = resolve;
  });
  let settled = false;
  const finish = (completed: boolean) => {
    if (settled) return;
    settled = true;
    settle({ usage, firstByteAt, endedAt: Date.now(), completed });
  };

  const sseLine = (line: string) => {
    if (!line.startsWith("data:") || !line.includes('"usage"')) return;
    const found = readUsage(parseJson(line.slice(5).trim()));
    if (found) usage = found;
  };

  const transform = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      if (firstByteAt === null) firstByteAt = Date.now();
      if (kind === "sse") {
        pending += decoder.decode(chunk, { stream: true });
        let newline = pending.indexOf("\n");
        while (newline !== -1) {
          sseLine(pending.slice(0, newline).replace(/\r$/, ""));
          pending = pending.slice(newline + 1);
          newline = pending.indexOf("\n");
        }
        if (pending.length > MAX_SSE_LINE) pending = "";
      } else if (kind === "json" && jsonBytes <= MAX_JSON_BYTES) {
        jsonBytes += chunk.byteLength;
        jsonText = jsonBytes <= MAX_JSON_BYTES ? jsonText + decoder.decode(chunk, { stream: true }) : "";
      }
    },
    flush() {
      if (kind === "sse") sseLine((pending + decoder.decode()).replace(/\r$/, ""));
      else if (kind === "json" && jsonBytes <= MAX_JSON_BYTES) usage = readUsage(parseJson(jsonText + decoder.decode()));
      finish(true);
    },
    cancel() {
      finish(false);
    },
  });
  return { transform, result, stop: () => finish(false) };
}
