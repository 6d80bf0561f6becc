import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";
import type { CodeExecutor, CodeLimits, CodeRunResult } from "./executor";

/** Loads the QuickJS wasm module; Workers pass the precompiled module (workerdModule.ts), Node the bytes. */
export type QuickJsLoader = () => Promise<QuickJSWASMModule>;

/**
 * QuickJS stops running code whenever its interrupt handler answers true; the handler is polled every
 * few thousand bytecode operations. Workers do not advance `Date.now()` while code runs without I/O
 * (docs/tools.md, "Sandbox"), so the clock alone cannot end a `while(true){}` in production: the number
 * of polls is a second, clock-free budget, set well above the poll rate of a tight loop so that the
 * clock ends legitimate code first wherever the clock advances.
 */
export const POLLS_PER_MS = 400;

/**
 * Elements a C built-in is assumed to process per ms of deadline (join over a holey array: ~25 per µs
 * here). A script may spend deadline × this on array built-ins; legitimate code stays far below it.
 */
export const WORK_UNITS_PER_MS = 50_000;

/** JS stack of the sandbox: deep recursion ends in a RangeError long before the wasm stack is at risk. */
const MAX_STACK_BYTES = 256 * 1024;

/**
 * Runs inside the sandbox before the user's code: a `console` that formats in the sandbox and hands the
 * host at most `cap` characters per line, and the formatter the host uses for the completion value.
 */
const PRELUDE = `(function (write, charge, alloc, cap) {
  const fmt = (v) => {
    if (typeof v === "string") return v;
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "undefined") return "undefined";
    if (typeof v === "function") return "[function " + (v.name || "anonymous") + "]";
    if (v instanceof Error) return String(v);
    if (typeof v === "object" && v !== null) {
      try {
        const s = JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
        if (s !== undefined) return s;
      } catch (e) {}
    }
    return String(v);
  };
  const line = (...args) => {
    const s = args.map(fmt).join(" ");
    write(s.length > cap ? s.slice(0, cap + 1) : s);
  };
  // Array and typed-array built-ins run in C without polling the interrupt handler, and a holey array
  // costs time without memory: \`new Array(1e9).indexOf(1)\` would run for seconds past the deadline.
  // Each call of an O(n) built-in first charges its length to a host-side work budget.
  const wrap = (proto, names, cost) => {
    for (const name of names) {
      const orig = proto[name];
      if (typeof orig !== "function") continue;
      Object.defineProperty(proto, name, {
        configurable: true,
        writable: true,
        value: {
          [name](...args) {
            const len = this == null ? 0 : this.length >>> 0;
            if (len > 1024) charge(cost(len));
            return Reflect.apply(orig, this, args);
          },
        }[name],
      });
    }
  };
  const linear = (n) => n;
  const nlogn = (n) => n * Math.max(1, Math.log2(n));
  const LINEAR = ["concat", "copyWithin", "every", "fill", "filter", "find", "findIndex", "findLast", "findLastIndex", "flat", "flatMap", "forEach", "includes", "indexOf", "join", "lastIndexOf", "map", "reduce", "reduceRight", "reverse", "shift", "slice", "some", "splice", "toLocaleString", "toReversed", "toSpliced", "toString", "unshift", "with", "set", "subarray"];
  wrap(Array.prototype, LINEAR, linear);
  wrap(Array.prototype, ["sort", "toSorted"], nlogn);
  const typed = Object.getPrototypeOf(Int8Array.prototype);
  wrap(typed, LINEAR, linear);
  wrap(typed, ["sort", "toSorted"], nlogn);
  // Buffers are zeroed in C, and their bytes are counted here as well as by the heap cap (which, without
  // malloc_usable_size in this build, undercounts them): a host-side total that never shrinks.
  const buffers = ["ArrayBuffer", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];
  for (const name of buffers) {
    const Ctor = globalThis[name];
    if (typeof Ctor !== "function") continue;
    const size = Ctor.BYTES_PER_ELEMENT || 1;
    globalThis[name] = new Proxy(Ctor, {
      construct(target, args, newTarget) {
        const first = args[0];
        const n = typeof first === "number" ? first : first != null && typeof first.length === "number" ? first.length : 0;
        if (n > 1024) alloc(n * size);
        return Reflect.construct(target, args, newTarget);
      },
    });
  }
  // Long strings are built and scanned in C as well (and repeat's result is not always counted by the
  // heap cap): charge the characters produced or scanned.
  const nativeRepeat = String.prototype.repeat;
  Object.defineProperty(String.prototype, "repeat", {
    configurable: true,
    writable: true,
    value: function repeat(count) {
      const n = String(this).length * Math.max(0, Math.trunc(Number(count)) || 0);
      if (n > 1024) charge(n);
      return Reflect.apply(nativeRepeat, this, [count]);
    },
  });
  const pad = (name) => {
    const orig = String.prototype[name];
    Object.defineProperty(String.prototype, name, {
      configurable: true,
      writable: true,
      value: { [name](target, fill) {
        const n = Math.trunc(Number(target)) || 0;
        if (n > 1024) charge(n);
        return Reflect.apply(orig, this, [target, fill]);
      } }[name],
    });
  };
  pad("padStart");
  pad("padEnd");
  wrap(String.prototype, ["indexOf", "lastIndexOf", "includes", "split", "replace", "replaceAll", "toUpperCase", "toLowerCase", "normalize", "concat", "match", "matchAll", "search", "localeCompare", "trim", "trimStart", "trimEnd", "startsWith", "endsWith"], linear);
  globalThis.console = { log: line, info: line, warn: line, error: line, debug: line };
  globalThis.print = line;
  return (v) => {
    const s = fmt(v);
    return s.length > cap ? s.slice(0, cap + 1) : s;
  };
})`;

/** Keeps at most `cap` bytes of output; anything beyond is counted as truncated. */
class Output {
  private text = "";
  private bytes = 0;
  truncated = false;
  constructor(readonly cap: number) {}
  write(line: string): void {
    if (this.truncated) return;
    const chunk = `${line}\n`;
    const size = new TextEncoder().encode(chunk).length;
    if (this.bytes + size <= this.cap) {
      this.text += chunk;
      this.bytes += size;
      return;
    }
    this.text += clip(chunk, this.cap - this.bytes);
    this.bytes = this.cap;
    this.truncated = true;
  }
  value(): string {
    return this.text;
  }
}

/** The longest prefix of `s` of at most `bytes` UTF-8 bytes. */
export function clip(s: string, bytes: number): string {
  if (bytes <= 0) return "";
  const encoded = new TextEncoder().encode(s);
  if (encoded.length <= bytes) return s;
  return new TextDecoder().decode(encoded.slice(0, bytes)).replace(/\uFFFD$/, "");
}

function errorText(ctx: QuickJSContext, handle: QuickJSHandle): string {
  const dumped: unknown = ctx.dump(handle);
  if (dumped && typeof dumped === "object") {
    const e = dumped as { name?: unknown; message?: unknown };
    const name = typeof e.name === "string" ? e.name : "Error";
    const message = typeof e.message === "string" ? e.message : JSON.stringify(dumped);
    return `${name}: ${message}`;
  }
  // QuickJS throws a bare null when it cannot even allocate the exception.
  return dumped === null || dumped === undefined || dumped === "" ? "InternalError: out of memory" : String(dumped);
}

/**
 * The built-in `execute_code` backend: a fresh QuickJS runtime per call, with a heap cap, a stack cap,
 * an interrupt deadline (clock and poll count), and an output cap. The sandbox has the ECMAScript
 * built-ins (BigInt included) and a `console`; no network, no timers, no module loader, no host objects.
 */
export class QuickJsExecutor implements CodeExecutor {
  private module: Promise<QuickJSWASMModule> | null = null;
  constructor(private readonly load: QuickJsLoader) {}

  async run(code: string, limits: CodeLimits): Promise<CodeRunResult> {
    this.module ??= this.load();
    const module = await this.module;
    let runtime: QuickJSRuntime | null = null;
    try {
      runtime = module.newRuntime();
      return this.runIn(runtime, code, limits);
    } catch (error) {
      // A trap inside the wasm (not an exception of the sandboxed code) leaves the module unusable.
      this.module = null;
      runtime = null;
      return {
        stdout: "",
        result: null,
        error: `sandbox failure: ${error instanceof Error ? error.message : String(error)}`,
        truncated: false,
      };
    } finally {
      try {
        runtime?.dispose();
      } catch {
        this.module = null;
      }
    }
  }

  private runIn(runtime: QuickJSRuntime, code: string, limits: CodeLimits): CodeRunResult {
    const started = Date.now();
    let polls = 0;
    const pollBudget = limits.deadlineMs * POLLS_PER_MS;
    const workBudget = limits.deadlineMs * WORK_UNITS_PER_MS;
    let work = 0;
    const spent = () => polls > pollBudget || work > workBudget || Date.now() - started > limits.deadlineMs;
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    runtime.setInterruptHandler(() => {
      polls += 1;
      return spent();
    });
    const ctx = runtime.newContext();
    const out = new Output(limits.outputBytes);
    const handles: QuickJSHandle[] = [];
    const keep = (h: QuickJSHandle) => {
      handles.push(h);
      return h;
    };
    try {
      const write = keep(ctx.newFunction("write", (line) => out.write(ctx.getString(line))));
      const charge = keep(
        ctx.newFunction("charge", (units) => {
          work += ctx.getNumber(units);
          // The same error QuickJS raises when its interrupt handler fires.
          if (spent()) return { error: ctx.newError({ name: "InternalError", message: "interrupted" }) };
          return undefined;
        }),
      );
      let allocated = 0;
      const alloc = keep(
        ctx.newFunction("alloc", (bytes) => {
          const n = ctx.getNumber(bytes);
          allocated += n;
          work += n / 8;
          if (allocated > limits.memoryBytes) return { error: ctx.newError({ name: "InternalError", message: "out of memory" }) };
          if (spent()) return { error: ctx.newError({ name: "InternalError", message: "interrupted" }) };
          return undefined;
        }),
      );
      const prelude = keep(ctx.unwrapResult(ctx.evalCode(PRELUDE, "prelude.js")));
      const fmt = keep(
        ctx.unwrapResult(ctx.callFunction(prelude, ctx.undefined, write, charge, alloc, keep(ctx.newNumber(limits.outputBytes)))),
      );

      const evaluated = ctx.evalCode(code, "main.js");
      if (evaluated.error) return finish(out, null, errorText(ctx, keep(evaluated.error)));
      let value = keep(evaluated.value);
      // Promises settle only through jobs the script itself queued: there are no timers or I/O.
      runtime.executePendingJobs();
      if (ctx.typeof(value) === "object") {
        const state = ctx.getPromiseState(value);
        if (state.type === "rejected") return finish(out, null, errorText(ctx, keep(state.error)));
        if (state.type === "pending")
          return finish(out, null, "Error: the script's promise never settled (the sandbox has no timers or I/O)");
        if (!state.notAPromise) value = keep(state.value);
      }
      if (ctx.typeof(value) === "undefined") return finish(out, null, null);
      const formatted = ctx.callFunction(fmt, ctx.undefined, value);
      if (formatted.error) return finish(out, null, errorText(ctx, keep(formatted.error)));
      return finish(out, ctx.getString(keep(formatted.value)), null);
    } finally {
      for (const h of handles.reverse()) if (h.alive) h.dispose();
      ctx.dispose();
    }
  }
}

function finish(out: Output, result: string | null, error: string | null): CodeRunResult {
  const kept = result === null ? null : clip(result, out.cap);
  return { stdout: out.value(), result: kept, error, truncated: out.truncated || kept !== result };
}
