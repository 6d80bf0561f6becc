/**
 * A response body for stream tests: delivers `parts` one chunk per pull, then ends — or, with `hang`,
 * never ends (an upstream still generating). `bytes` makes it a byte stream (BYOB readers, workerd's
 * `readAtLeast`). `state.cancelled` records a cancel reaching the source.
 */
export function sourceStream(parts: string[], options: { hang?: boolean; bytes?: boolean } = {}) {
  const encoder = new TextEncoder();
  const state = { cancelled: false };
  let i = 0;
  const source = {
    async pull(controller: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController) {
      const part = parts[i++];
      if (part !== undefined) controller.enqueue(encoder.encode(part));
      else if (options.hang) await new Promise<void>(() => undefined);
      else controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  };
  const stream: ReadableStream<Uint8Array> = options.bytes
    ? new ReadableStream({ type: "bytes", ...source })
    : new ReadableStream<Uint8Array>(source);
  return { stream, state };
}
