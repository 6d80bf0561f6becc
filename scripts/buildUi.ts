/**
 * Builds the dashboard (docs/dashboard.md §1): bundles ui/main.ts with Chart.js into one minified
 * module, next to the page and its stylesheet in dist/ui, and packs the files the Worker serves into
 * dist/ui/dashboard.uibundle (JSON: name → body and ETag), which the Worker imports as a text module
 * (wrangler.toml `rules`) and serves at /ui/ (src/routes/dashboard.ts).
 */
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = join(ROOT, "dist/ui");
/** What the Worker serves; the rest of dist/ui (the bundle's third-party notices) is for reading. */
const SERVED = ["index.html", "app.js", "app.css"];

/** Builds the dashboard into dist/ui; returns the size of what it wrote, in bytes. */
export async function buildDashboard(): Promise<number> {
  // The static-assets output of earlier versions, which wrangler.toml no longer names.
  rmSync(join(ROOT, "dist/assets"), { recursive: true, force: true });
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, "ui/main.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: false,
    legalComments: "linked",
    outfile: join(OUT, "app.js"),
    metafile: true,
    logLevel: "warning",
  });
  copyFileSync(join(ROOT, "ui/index.html"), join(OUT, "index.html"));
  copyFileSync(join(ROOT, "ui/app.css"), join(OUT, "app.css"));
  const files: Record<string, { body: string; etag: string }> = {};
  for (const name of SERVED) {
    const body = readFileSync(join(OUT, name), "utf8");
    files[name] = { body, etag: `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"` };
  }
  writeFileSync(join(OUT, "dashboard.uibundle"), JSON.stringify({ files }));
  return Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const bytes = await buildDashboard();
  console.log(`dashboard built: dist/ui (${Math.round(bytes / 1024)} KiB)`);
}
