import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_CODE_LIMITS, type CodeLimits } from "../../src/tools/code/executor";
import { QuickJsExecutor } from "../../src/tools/code/quickjs";
import { loadWorkerdQuickJs } from "../../src/tools/code/workerdModule";

const executor = new QuickJsExecutor(loadWorkerdQuickJs);
/** A shorter deadline than the default keeps the suite quick; one case runs with the defaults. */
const LIMITS: CodeLimits = { ...DEFAULT_CODE_LIMITS, deadlineMs: 1_500 };
/** What a hostile script may overshoot its deadline by. */
const MARGIN_MS = 1_000;

async function timed(code: string, limits = LIMITS) {
  const started = performance.now();
  const result = await executor.run(code, limits);
  // performance.now() advances across the awaited call in workerd tests (the call ends in I/O-free code,
  // but the test's own await is a turn of the event loop), which is enough to bound the elapsed time.
  return { ...result, ms: performance.now() - started };
}

afterEach(() => vi.restoreAllMocks());

describe("QuickJS sandbox in workerd", () => {
  it("runs code: stdout, completion value and BigInt", async () => {
    const r = await timed("console.log('sum', [1, 2, 3].reduce((a, b) => a + b)); 2n ** 100n");
    expect(r).toMatchObject({ stdout: "sum 6\n", result: "1267650600228229401496703205376", error: null, truncated: false });
    const obj = await timed("({a: 1, b: [2n, 'x']})");
    expect(obj.result).toBe('{"a":1,"b":["2","x"]}');
    const thrown = await timed("throw new TypeError('nope')");
    expect(thrown.error).toBe("TypeError: nope");
  });

  it("interrupts an endless loop at the deadline (default limits too)", async () => {
    const r = await timed("let i = 0; while (true) { i++; }");
    expect(r.error).toMatch(/interrupted/);
    expect(r.ms).toBeLessThan(LIMITS.deadlineMs + MARGIN_MS);
    const d = await timed("for (;;) {}", DEFAULT_CODE_LIMITS);
    expect(d.error).toMatch(/interrupted/);
    expect(d.ms).toBeLessThan(DEFAULT_CODE_LIMITS.deadlineMs + MARGIN_MS);
  }, 20_000);

  it("stops unbounded allocation with out of memory, and the next call still works", async () => {
    const arrays = await timed("const keep = []; while (true) keep.push(new Float64Array(100000));");
    expect(arrays.error).toMatch(/out of memory/i);
    expect(arrays.ms).toBeLessThan(LIMITS.deadlineMs + MARGIN_MS);
    const objects = await timed("const m = new Map(); let i = 0; while (true) m.set(i++, { i, s: 'v' + i });");
    expect(objects.error).toMatch(/out of memory|interrupted/i);
    expect(objects.ms).toBeLessThan(LIMITS.deadlineMs + MARGIN_MS);
    const doubling = await timed("let s = 'x'; while (true) s = s + s;");
    expect(doubling.error).toMatch(/out of memory|string too long/i);
    expect((await timed("1 + 1")).result).toBe("2");
  }, 30_000);

  it("bounds C built-ins that never poll the interrupt handler (holey arrays, backtracking regexes)", async () => {
    for (const code of [
      "const keep = []; while (true) keep.push(new Array(100000).fill(1.5));",
      "const keep = []; while (true) keep.push(new Array(100000).join('ab'));",
      "new Array(1e9).indexOf(1)",
      "/(a+)+b/.test('a'.repeat(40))",
      "const keep = []; while (true) keep.push('x'.repeat(1e6) + keep.length);",
    ]) {
      const r = await timed(code);
      expect(r.error, code).toMatch(/interrupted|out of memory/);
      expect(r.ms, code).toBeLessThan(LIMITS.deadlineMs + MARGIN_MS);
    }
    expect((await timed("[3, 1, 2].sort().concat([4]).join('-')")).result).toBe("1-2-3-4");
    expect((await timed("'ab'.padStart(4, 'x') + 'c'.repeat(3) + 'a-b'.split('-').length")).result).toBe("xxabccc2");
    expect((await timed("const a = new Array(5000).fill(2); a.reduce((s, x) => s + x, 0)")).result).toBe("10000");
  }, 30_000);

  it("ends deep recursion with a stack overflow", async () => {
    const r = await timed("function f(n) { return f(n + 1) + 1; } f(0)");
    expect(r.error).toMatch(/stack overflow|RangeError/i);
    expect(r.ms).toBeLessThan(LIMITS.deadlineMs + MARGIN_MS);
    const mutual = await timed("const a = (n) => b(n) + 1; const b = (n) => a(n) + 1; a(0)");
    expect(mutual.error).toMatch(/stack overflow|RangeError/i);
  });

  it("caps output that prints megabytes and marks it truncated", async () => {
    const r = await timed("for (let i = 0; i < 1e6; i++) console.log('x'.repeat(1000));");
    expect(r.truncated).toBe(true);
    expect(new TextEncoder().encode(r.stdout).length).toBeLessThanOrEqual(LIMITS.outputBytes);
    expect(r.ms).toBeLessThan(LIMITS.deadlineMs + MARGIN_MS);
    const big = await timed("'y'.repeat(5 * 1024 * 1024)");
    expect(big.truncated).toBe(true);
    expect(big.result?.length).toBe(LIMITS.outputBytes);
  }, 20_000);

  it("has no network, timers, module loader or host objects", async () => {
    const hostFetch = vi.spyOn(globalThis, "fetch");
    const probes = await timed(
      "[typeof fetch, typeof setTimeout, typeof setInterval, typeof require, typeof process, typeof WebAssembly, typeof XMLHttpRequest, typeof caches, typeof navigator, typeof Request, typeof crypto].join(',')",
    );
    expect(probes.result).toBe(Array(11).fill("undefined").join(","));
    expect((await timed("fetch('http://example.com/')")).error).toMatch(/ReferenceError: .*fetch/);
    expect((await timed("setTimeout(() => {}, 10)")).error).toMatch(/ReferenceError: .*setTimeout/);
    const dynamicImport = await timed("import('http://example.com/x.js')");
    expect(dynamicImport.error).not.toBeNull();
    expect(dynamicImport.result).toBeNull();
    const escaped = await timed("(function () { return this; })().constructor.constructor('return typeof fetch')()");
    expect(escaped.result).toBe("undefined");
    const pending = await timed("new Promise(() => {})");
    expect(pending.error).toMatch(/never settled/);
    const awaited = await timed("(async () => { const x = await Promise.resolve(20n); return x * 2n + 2n; })()");
    expect(awaited.result).toBe("42");
    expect(hostFetch).not.toHaveBeenCalled();
  });

  it("keeps the Worker serving after hostile code", async () => {
    await timed("while (true) {}");
    const res = await exports.default.fetch(new Request("http://tfgrpo.test/healthz"));
    expect(res.status).toBe(200);
  }, 10_000);
});
