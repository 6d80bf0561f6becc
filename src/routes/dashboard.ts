import { Hono } from "hono";
import { z } from "zod";
import bundle from "../../dist/ui/dashboard.uibundle";
import { ApiError } from "../shared/errors";
import type { AppEnv } from "../shared/appEnv";

/**
 * The dashboard's files, served by the Worker at /ui/ (docs/dashboard.md §1): built into one text module
 * by scripts/buildUi.ts. Not Workers static assets: those put an asset router in front of every request
 * to the Worker, the proxy's included, which cost most of what the proxy added over a bare pass-through
 * under `wrangler dev` (docs/serving.md, "Current figures"); the dashboard is a handful of requests per visit.
 */

/** A strict policy as a second line behind ui/dom.ts (docs/dashboard.md §3): own origin only, no inline code, no framing. */
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

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

const bundleSchema = z.object({ files: z.record(z.string(), z.object({ body: z.string(), etag: z.string() })) });

type DashboardFile = { body: string; etag: string; type: string };

/** Parsed on the first dashboard request, not at isolate start (the proxy never pays for it). */
let files: Map<string, DashboardFile> | null = null;

/** The files of a dashboard bundle by name, each with its content type; throws on a malformed bundle. */
export function readBundle(text: string): Map<string, DashboardFile> {
  const out = new Map<string, DashboardFile>();
  for (const [name, file] of Object.entries(bundleSchema.parse(JSON.parse(text)).files)) {
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf(".") + 1)];
    if (type) out.set(name, { ...file, type });
  }
  return out;
}

/** True when `If-None-Match` names this ETag (or `*`): the browser's copy is current. */
function fresh(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === etag || t === "*");
}

/** Mounted at /ui: the page at /ui/, its script and stylesheet next to it; /ui redirects to /ui/. */
export const dashboardRouter = new Hono<AppEnv>()
  .get("/", (c) => c.redirect("/ui/", 308))
  .get("/:name{.*}", (c) => serve(c.req.header("if-none-match"), c.req.param("name") || "index.html"));

function serve(ifNoneMatch: string | undefined, name: string): Response {
  files ??= readBundle(bundle);
  const file = files.get(name);
  if (!file) throw new ApiError(404, `no dashboard file '${name}'`, "route_not_found");
  const headers = {
    "content-type": file.type,
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    // Revalidated on every load (a deploy changes the files under the same names), answered 304 when unchanged.
    "cache-control": "no-cache",
    etag: file.etag,
  };
  if (fresh(ifNoneMatch, file.etag)) return new Response(null, { status: 304, headers });
  return new Response(file.body, { headers });
}
