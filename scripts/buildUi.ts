/**
 * Builds the dashboard (docs/dashboard.md §1): bundles ui/main.ts with Chart.js into one minified
 * module and copies the page and its stylesheet into dist/assets/ui, which wrangler.toml serves as
 * static assets. `_headers` gives the pages a strict Content-Security-Policy (scripts and styles from
 * the Worker's own origin only, no inline code, no framing).
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = join(ROOT, "dist/assets");

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Builds the dashboard into dist/assets; returns the size of what it wrote, in bytes. */
export async function buildDashboard(): Promise<number> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(join(OUT, "ui"), { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, "ui/main.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: false,
    legalComments: "linked",
    outfile: join(OUT, "ui/app.js"),
    metafile: true,
    logLevel: "warning",
  });
  copyFileSync(join(ROOT, "ui/index.html"), join(OUT, "ui/index.html"));
  copyFileSync(join(ROOT, "ui/app.css"), join(OUT, "ui/app.css"));
  writeFileSync(
    join(OUT, "_headers"),
    `/ui/*\n  Content-Security-Policy: ${CSP}\n  X-Content-Type-Options: nosniff\n  Referrer-Policy: no-referrer\n  Cache-Control: no-cache\n`,
  );
  return Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const bytes = await buildDashboard();
  console.log(`dashboard built: dist/assets/ui (${Math.round(bytes / 1024)} KiB)`);
}
