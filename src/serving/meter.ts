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
  /** True when `usage` is our estimate (the stream carried none), not the upstream's count. */
  estimated?: boolean;
};

export type BodyKind = "sse" | "json" | "other";

/** A JSON body larger than this is passed through but not parsed for usage. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
/** Bytes of a stream gathered before its generated text is counted (one decode and scan per batch, not per chunk). */
const COUNT_BATCH_BYTES = 16 * 1024;

/** How much of the end of an SSE stream is kept to find the usage chunk in (it is the last event). */
const SSE_TAIL_BYTES = 64 * 1024;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * Token counts of a `usage` object in any of the three wire formats: chat completions
 * (`prompt_tokens`, `completion_tokens`, `prompt_tokens_details.cached_tokens`), the Responses API
 * (`input_tokens`, `output_tokens`, `input_tokens_details.cached_tokens`) and Anthropic's Messages API
 * (`input_tokens` without the cached part, `cache_read_input_tokens`, `cache_creation_input_tokens`,
 * `output_tokens`). Prompt tokens always count the whole prompt, cached tokens included.
 */
function usageOf(usage: object): TokenUsage {
  const get = (o: unknown, k: string): unknown => (typeof o === "object" && o !== null ? Reflect.get(o, k) : undefined);
  if (get(usage, "prompt_tokens") !== undefined || get(usage, "completion_tokens") !== undefined) {
    return {
      promptTokens: num(get(usage, "prompt_tokens")),
      completionTokens: num(get(usage, "completion_tokens")),
      cachedTokens: num(get(get(usage, "prompt_tokens_details"), "cached_tokens")),
    };
  }
  const input = num(get(usage, "input_tokens"));
  const cacheRead = num(get(usage, "cache_read_input_tokens"));
  const cacheWrite = num(get(usage, "cache_creation_input_tokens"));
  const anthropic = cacheRead !== null || cacheWrite !== null;
  return {
    promptTokens: input === null ? null : input + (cacheRead ?? 0) + (cacheWrite ?? 0),
    completionTokens: num(get(usage, "output_tokens")),
    cachedTokens: anthropic ? cacheRead : num(get(get(usage, "input_tokens_details"), "cached_tokens")),
  };
}

/**
 * Reads the `usage` of a reply or a stream event, in any wire format: top-level (chat completions,
 * Anthropic messages and `message_delta`), under `response` (Responses API `response.completed`) or
 * under `message` (Anthropic `message_start`). Null when there is none.
 */
export function readUsage(value: unknown): TokenUsage | null {
  if (typeof value !== "object" || value === null) return null;
  for (const holder of [value, Reflect.get(value, "response"), Reflect.get(value, "message")]) {
    if (typeof holder !== "object" || holder === null) continue;
    const usage: unknown = Reflect.get(holder, "usage");
    if (typeof usage === "object" && usage !== null) return usageOf(usage);
  }
  return null;
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

/** The first complete `data:` event of a stream head that carries a usage (Anthropic's `message_start`). */
function firstSseUsage(text: string): TokenUsage | null {
  for (const line of text.split("\n")) {
    if (line.startsWith("data:") && line.includes('"usage"')) {
      const found = readUsage(parseJson(line.slice(5).trim()));
      if (found) return found;
    }
  }
  return null;
}

/**
 * The usage of a whole stream from its head and its tail. Anthropic reports the prompt's tokens in
 * `message_start` (first event) and the output's in `message_delta` (last): the tail's counts win,
 * the head fills in what the tail leaves out.
 */
export function streamUsage(head: string, tail: string): TokenUsage | null {
  const last = sseUsage(tail);
  if (last && last.promptTokens !== null) return last;
  const first = firstSseUsage(head);
  if (!first) return last;
  if (!last) return first;
  return {
    promptTokens: first.promptTokens,
    completionTokens: last.completionTokens ?? first.completionTokens,
    cachedTokens: first.cachedTokens,
  };
}

/** What an estimate is based on: the prompt's size, known to the route before the request goes out. */
export type Estimate = { promptChars: number };

/** Tokens from characters, at the usual ~4 characters per token of English text (an estimate). */
export const tokensFromChars = (chars: number) => Math.ceil(chars / 4);

/** Bytes of the start of a stream kept for the usage its first event may carry (Anthropic's `message_start`). */
const SSE_HEAD_BYTES = 8 * 1024;

export type MeterOptions = {
  /**
   * Stream events' generated-text fields for this wire format, counted as the stream goes so that a
   * stream without a usage event, or one the client left, still gets an (estimated) output count.
   */
  textFields?: RegExp;
  /** The prompt's size, for an estimate when the stream reports no prompt tokens. */
  estimate?: Estimate;
  /** The body came from the network (a `fetch`), not from a stream made in JavaScript. */
  native?: boolean;
};

/** Generated-text fields of each wire format's stream events (deltas only, never a repeated full text). */
export const TEXT_FIELDS = {
  chat: /"(?:content|arguments)":"((?:[^"\\]|\\.)*)"/g,
  responses: /"delta":"((?:[^"\\]|\\.)*)"/g,
  messages: /"(?:text|partial_json)":"((?:[^"\\]|\\.)*)"/g,
} as const;

function countChars(text: string, fields: RegExp): number {
  let chars = 0;
  for (const m of text.matchAll(fields)) chars += m[1]?.length ?? 0;
  return chars;
}

/**
 * Counts the generated text of a stream fed in order, chunk by chunk: decoded and scanned a batch at a
 * time, whole lines only, so that a field split between two chunks is counted once, with the next batch.
 */
function textCounter(fields: RegExp): { add: (chunk: Uint8Array) => void; finish: () => number } {
  const decoder = new TextDecoder();
  let carry = "";
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let chars = 0;
  const flush = (final: boolean) => {
    const text = carry + decoder.decode(concatBytes(batch, batchBytes), { stream: !final });
    const cut = final ? text.length : text.lastIndexOf("\n") + 1;
    chars += countChars(text.slice(0, cut), fields);
    carry = text.slice(cut);
    batch = [];
    batchBytes = 0;
  };
  return {
    add: (chunk) => {
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes >= COUNT_BATCH_BYTES) flush(false);
    },
    finish: () => {
      flush(true);
      return chars;
    },
  };
}

/** Chunks kept as they came (no copy, no decoding), optionally only the most recent ones. */
class ByteWindow {
  /** Chunks from `first` on are kept; the ones before it have left (dropped lazily, not shifted one by one). */
  private all: Uint8Array[] = [];
  private first = 0;
  bytes = 0;
  /** How many chunks left the front of the window. */
  dropped = 0;

  get chunks(): readonly Uint8Array[] {
    return this.first === 0 ? this.all : this.all.slice(this.first);
  }

  push(chunk: Uint8Array): void {
    this.all.push(chunk);
    this.bytes += chunk.byteLength;
  }

  /** Adds a chunk, then lets the oldest go (to `onDrop`) while the rest still hold `keep` bytes. */
  pushKeeping(chunk: Uint8Array, keep: number, onDrop?: (chunk: Uint8Array) => void): void {
    this.push(chunk);
    for (
      let oldest = this.all[this.first];
      oldest && this.all.length - this.first > 1 && this.bytes - oldest.byteLength >= keep;
      oldest = this.all[this.first]
    ) {
      this.first++;
      this.bytes -= oldest.byteLength;
      this.dropped++;
      onDrop?.(oldest);
    }
    // Thousands of small chunks fit in the window: compact now and then rather than shift on every chunk.
    if (this.first >= 1024 && this.first * 2 >= this.all.length) {
      this.all = this.all.slice(this.first);
      this.first = 0;
    }
  }

  concat(): Uint8Array {
    return concatBytes(this.chunks, this.bytes);
  }
}

/**
 * The client's side of the body: the tee branch piped into an identity stream. Measured under wrangler
 * dev: a tee branch handed to the runtime as it is never learns that the client went away (the request
 * signal does not fire either), so the other branch kept the upstream streaming to its end; through
 * the pipe, the client's disconnect rejects it ("Network connection lost") and the request signal
 * fires, and `onGone` lets go of the upstream. A network body goes into workerd's native
 * `IdentityTransformStream` (the pipe runs in the runtime, no JavaScript per chunk); a stream made in
 * JavaScript (the in-process simulated model's) cannot be piped into that one ("not implemented") and
 * goes through a standard `TransformStream` (docs/serving.md, "Cancellation").
 */
function clientSide(
  branch: ReadableStream<Uint8Array>,
  native: boolean,
  onGone: () => void,
): { readable: ReadableStream<Uint8Array>; cut: () => void } {
  const { readable, writable } = native ? new IdentityTransformStream() : new TransformStream<Uint8Array, Uint8Array>();
  // Aborting the pipe cancels the client's branch at once, even while the upstream sends nothing.
  const pipe = new AbortController();
  branch.pipeTo(writable, { signal: pipe.signal }).catch(onGone);
  return { readable, cut: () => pipe.abort() };
}

/**
 * Splits `body` in two with `tee()`: the client's branch flows through the runtime untouched (no
 * JavaScript per chunk on the response path), the other is read here, off the critical path, keeping
 * only what holds the usage — the whole body of a JSON reply (up to MAX_JSON_BYTES), the first
 * SSE_HEAD_BYTES and the last SSE_TAIL_BYTES of a stream (usage comes in the last event, and for
 * Anthropic also in the first) — parsed once at the end. With `textFields`, each slice of a stream is
 * also scanned for generated text, for an estimate when the stream reports no usage or was cut short.
 * `result` settles when the body ends, fails, or `stop()` is called (when the client's request signal
 * aborts or its branch's pipe fails, see `clientSide`), which also cancels the watched branch, so with
 * both branches gone the upstream request is cancelled too.
 */
export function meterBody(
  kind: BodyKind,
  body: ReadableStream<Uint8Array>,
  options: MeterOptions = {},
): { body: ReadableStream<Uint8Array>; result: Promise<MeterResult>; stop: () => void } {
  const [client, watched] = body.tee();
  // Chunk by chunk, as they come. Not workerd's `readAtLeast` on a BYOB reader: a pending
  // `readAtLeast` on one branch of a `tee()` held the client's branch back until that many bytes had
  // arrived, so a slow stream reached the client only at its end (docs/serving.md, "Cancellation").
  const reader = watched.getReader();
  let firstByteAt: number | null = null;
  let stopped = false;
  const fields = kind === "sse" ? options.textFields : undefined;
  const counter = fields ? textCounter(fields) : null;
  // Raw bytes only, per chunk: what they hold is decoded once, at the end, and only what is needed.
  const head = new ByteWindow();
  const tail = new ByteWindow();
  let total = 0;

  const watch = async (): Promise<void> => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (firstByteAt === null) firstByteAt = Date.now();
      if (stopped) break;
      total += value.byteLength;
      if (kind === "other" || (kind === "json" && total > MAX_JSON_BYTES)) continue;
      if (kind === "json") {
        tail.push(value);
        continue;
      }
      if (head.bytes < SSE_HEAD_BYTES) head.push(value.subarray(0, SSE_HEAD_BYTES - head.bytes));
      // Text leaving the tail is counted now (in order); what stays is counted at the end, and only for an estimate.
      tail.pushKeeping(value, SSE_TAIL_BYTES, counter?.add);
    }
  };

  const usageSeen = (): TokenUsage | null => {
    if (kind === "other" || (kind === "json" && total > MAX_JSON_BYTES)) return null;
    if (kind === "json") return jsonUsage(tail.concat());
    const tailText = new TextDecoder().decode(tail.concat());
    // Anthropic's prompt count is in the first event: the head, which is the tail's start while nothing left it.
    return streamUsage(tail.dropped === 0 ? tailText : new TextDecoder().decode(head.concat()), tailText);
  };

  const settle = (completed: boolean): MeterResult => {
    const endedAt = Date.now();
    const usage = usageSeen();
    const exact = usage !== null && usage.promptTokens !== null && usage.completionTokens !== null;
    if (!counter || (completed && exact)) return { usage, firstByteAt, endedAt, completed };
    // A stream without a usage event, or one cut short: what was streamed, estimated and flagged.
    for (const chunk of tail.chunks) counter.add(chunk);
    const promptTokens = usage?.promptTokens ?? (options.estimate ? tokensFromChars(options.estimate.promptChars) : null);
    const estimated: TokenUsage = {
      promptTokens,
      completionTokens: tokensFromChars(counter.finish()),
      cachedTokens: usage?.cachedTokens ?? null,
    };
    return { usage: estimated, firstByteAt, endedAt, completed, estimated: true };
  };

  const result = watch().then(
    () => settle(!stopped),
    () => settle(false),
  );
  const stop = () => {
    if (stopped) return;
    stopped = true;
    reader.cancel().catch(() => undefined);
    side.cut();
  };
  const side = clientSide(client, options.native === true, stop);
  return { body: side.readable, result, stop };
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
