/**
 * The dashboard builds DOM only through ui/dom.ts, which inserts text as text (docs/dashboard.md §3).
 * This guards the rule in the source: no HTML-parsing sink anywhere in ui/, and no attribute that
 * could carry script through dom.ts's allow-list.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const UI = resolve(import.meta.dirname, "../../../ui");
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );

describe("the dashboard's source", () => {
  it("never parses strings as HTML or script", () => {
    const sinks =
      /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\beval\(|new Function\(|setAttribute\(\s*["'](href|src|on\w+|style)["']/;
    const offenders = files(UI).filter((f) =>
      sinks.test(readFileSync(f, "utf8").replace(/setAttribute\("href", href\(props\.route, props\.query\)\)/, "")),
    );
    expect(offenders).toEqual([]);
  });

  it("allows no event-handler, style, src or href attribute through dom.ts", () => {
    const source = readFileSync(join(UI, "dom.ts"), "utf8");
    const allow = /const ATTRIBUTE = \/\^\((.*)\)\$\//.exec(source)?.[1] ?? "";
    expect(allow).not.toBe("");
    const pattern = new RegExp(`^(${allow})$`);
    for (const name of ["onclick", "onerror", "style", "src", "href", "srcdoc", "formaction", "action"])
      expect(pattern.test(name), name).toBe(false);
  });
});
