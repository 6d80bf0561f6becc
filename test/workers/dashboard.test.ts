/**
 * The dashboard's files, served by the Worker (docs/dashboard.md §1): the page, its script and its
 * stylesheet from the built bundle, with a strict Content-Security-Policy, revalidated by ETag; nothing
 * else under /ui/, and no admin data without signing in.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readBundle } from "../../src/routes/dashboard";
import { expectErrorShape } from "./helpers";

const get = (path: string, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://tfgrpo.test${path}`, { headers, redirect: "manual" }));

describe("the dashboard's files", () => {
  it("serves the page at /ui/ with a strict policy, and its script and stylesheet next to it", async () => {
    const page = await get("/ui/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) {
      expect(csp).toContain(directive);
    }
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="app.js"></script>');
    expect(html).toContain('href="app.css"');

    const script = await get("/ui/app.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await script.text()).length).toBeGreaterThan(10_000);
    const style = await get("/ui/app.css");
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect((await get("/ui/index.html")).status).toBe(200);
  });

  it("redirects /ui to /ui/, so the page's relative links resolve", async () => {
    const res = await get("/ui");
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe("/ui/");
  });

  it("answers 304 to a browser whose copy is current, and the file to one whose copy is not", async () => {
    const first = await get("/ui/app.js");
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    await first.arrayBuffer();
    const again = await get("/ui/app.js", { "if-none-match": `W/${etag}` });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("content-security-policy")).toContain("script-src 'self'");
    const stale = await get("/ui/app.js", { "if-none-match": '"0000"' });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
  });

  it("serves nothing else under /ui/: unknown names, paths below it and the build's notices are 404s in the error shape", async () => {
    for (const path of [
      "/ui/secrets.json",
      "/ui/app.js.LEGAL.txt",
      "/ui/dashboard.uibundle",
      "/ui/../wrangler.toml",
      "/ui/a/b.js",
      "/ui/%2e%2e%2fapp.js",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expectErrorShape(await res.json());
    }
  });

  it("refuses a malformed bundle rather than serving part of it", () => {
    expect(() => readBundle('{"files":{"index.html":{"body":1,"etag":"x"}}}')).toThrow();
    expect(() => readBundle("not json")).toThrow();
    expect([...readBundle('{"files":{"a.html":{"body":"x","etag":"\\"e\\""},"b.exe":{"body":"y","etag":"\\"f\\""}}}').keys()]).toEqual([
      "a.html",
    ]);
  });
});
