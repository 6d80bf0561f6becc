/**
 * Watches a response body on its way to the client without holding it back. Records the time of the
 * first byte and the token usage the upstream reported — from the SSE chunk carrying `usage`
 * (streams) or from the JSON body (non-streamed).
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
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
/** Bytes the watched branch asks for per read after the first (see `sliceReader`). */
const SLICE_BYTES = 64 * 1024;

/** How much of the end of an SSE stream is kept to find the usage chunk in (it is the last event). */
const SSE_TAIL_BYTES = 64 * 1024;

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

/** The usage a complete JSON reply reports (null when it reports none or is not JSON). */
export function jsonUsage(bytes: ArrayBuffer | Uint8Array): TokenUsage | null {
  return readUsage(parseJson(new TextDecoder().decode(bytes)));
}

/** Finds the usage in the text of an SSE stream: the last `data:` event that carries one. */
export function sseUsage(text: string): TokenUsage | null {
  let end = text.length;
  while (end > 0) {
    const start = text.lastIndexOf("\n", end - 1) + 1;
    const line = text.slice(start, end).replace(/\r$/, "");
    if (line.startsWith("data:") && line.includes('"usage"')) {
      const found = readUsage(parseJson(line.slice(5).trim()));
      if (found) return found;
    }
    end = start - 1;
  }
  return null;
}

type ChunkReader = { read(): Promise<ReadableStreamReadResult<Uint8Array>>; cancel(): Promise<void> };

/**
 * Reads the first chunk as soon as it comes (its time is the time to first byte), then, where the
 * runtime can (workerd's `readAtLeast` on a byte stream), SLICE_BYTES at a time: a stream of many small
 * chunks then wakes this code a few times instead of once per chunk. Anything else is read chunk by chunk.
 */
function sliceReader(stream: ReadableStream<Uint8Array>): ChunkReader {
  try {
    const byob = stream.getReader({ mode: "byob" });
    if (typeof byob.readAtLeast === "function") {
      let first = true;
      return {
        read: () => {
          const view = new Uint8Array(SLICE_BYTES);
          const next = first ? byob.read(view) : byob.readAtLeast(SLICE_BYTES, view);
          first = false;
          return next;
        },
        cancel: () => byob.cancel(),
      };
    }
    byob.releaseLock();
  } catch {
    // Not a byte stream: no BYOB reader.
  }
  const reader = stream.getReader();
  return { read: () => reader.read(), cancel: () => reader.cancel() };
}

/**
 * Splits `body` in two with `tee()`: the client's branch flows through the runtime untouched (no
 * JavaScript per chunk on the response path), the other is read here, off the critical path, keeping
 * only what holds the usage — the whole body of a JSON reply (up to MAX_JSON_BYTES), the last
 * SSE_TAIL_BYTES of a stream (the usage chunk comes last) — decoded and parsed once at the end.
 * `result` settles when the body ends, fails, or `stop()` is called (e.g. when the client's request
 * signal aborts — which also cancels the watched branch, so with both branches gone the upstream
 * request is cancelled too), whichever comes first.
 */
export function meterBody(
  kind: BodyKind,
  body: ReadableStream<Uint8Array>,
): { body: ReadableStream<Uint8Array>; result: Promise<MeterResult>; stop: () => void } {
  const [client, watched] = body.tee();
  const reader = sliceReader(watched);
  let firstByteAt: number | null = null;
  let stopped = false;

  const watch = async (): Promise<TokenUsage | null> => {
    const kept: Uint8Array[] = [];
    let keptBytes = 0;
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (firstByteAt === null) firstByteAt = Date.now();
      if (stopped) break;
      total += value.byteLength;
      if (kind === "other" || (kind === "json" && total > MAX_JSON_BYTES)) continue;
      kept.push(value);
      keptBytes += value.byteLength;
      if (kind === "sse") {
        while (kept.length > 1 && keptBytes - (kept[0]?.byteLength ?? 0) >= SSE_TAIL_BYTES) keptBytes -= kept.shift()?.byteLength ?? 0;
      }
    }
    if (kind === "other" || (kind === "json" && total > MAX_JSON_BYTES)) return null;
    const bytes = concatBytes(kept, keptBytes);
    return kind === "sse" ? sseUsage(new TextDecoder().decode(bytes)) : jsonUsage(bytes);
  };

  const result = watch().then(
    (usage) => ({ usage, firstByteAt, endedAt: Date.now(), completed: !stopped }),
    () => ({ usage: null, firstByteAt, endedAt: Date.now(), completed: false }),
  );
  const stop = () => {
    if (stopped) return;
    stopped = true;
    reader.cancel().catch(() => undefined);
  };
  return { body: client, result, stop };
}

/** The chunks as one array of `size` bytes. */
export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
