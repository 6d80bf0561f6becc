import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");

/**
 * `tfgrpo` ships as compiled JavaScript: what it imports at run time must be in `dependencies`, so an
 * install without dev dependencies can run it.
 */
describe("the tfgrpo command as a package", () => {
  it("imports only Node built-ins and runtime dependencies", () => {
    execFileSync("npm", ["run", "-s", "build:cli"], { cwd: ROOT });
    const bundle = readFileSync(resolve(ROOT, "dist/tfgrpo.mjs"), "utf8");
    const imported = [...bundle.matchAll(/^(?:import|export)\s[^;]*?from\s*"([^"]+)"|^import\s*"([^"]+)"/gm)].map((m) => m[1] ?? m[2]!);
    const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const packageOf = (spec: string) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
    const outside = imported.filter((s) => !s.startsWith("node:") && !builtinModules.includes(s) && !(packageOf(s) in pkg.dependencies));
    expect(imported.length).toBeGreaterThan(0);
    expect(outside).toEqual([]);
  });

  it("runs from bin/ and prints its help", () => {
    const help = execFileSync("node", [resolve(ROOT, "bin/tfgrpo.mjs"), "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(help).toContain("Usage: tfgrpo");
  });
});
