import { Hono } from "hono";
import { errorBody, handleError } from "./shared/errors";
import { adminAuth } from "./auth/adminAuth";
import { encryptionConfigProblem } from "./auth/keyRing";
import { api } from "./routes/api";
import { sessionRouter } from "./routes/session";
import { dashboardRouter } from "./routes/dashboard";
import { v1 } from "./routes/v1";
import { limitBody } from "./routes/bodyLimit";
import type { AppEnv } from "./shared/appEnv";
import { randomToken } from "./shared/ids";

/** What every response shares: a request id, unknown routes and errors in the OpenAI error shape. */
function surface(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    const requestId = `req_${randomToken(12)}`;
    c.set("requestId", requestId);
    // A Worker cannot refuse to start, so it refuses to serve, saying why (the health check included).
    const problem = encryptionConfigProblem(c.env);
    if (problem) {
      console.error(`refusing request ${requestId}: ${problem}`);
      return c.json(errorBody(500, problem, "server_misconfigured"), 500);
    }
    await next();
    // Setting a header on a finished response makes Hono wrap it in a new Response (its body turned
    // into a stream): the chat relay's replies already carry the id.
    if (c.res.headers.get("x-request-id") !== requestId) c.header("x-request-id", requestId);
  });
  app.notFound((c) => c.json(errorBody(404, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`, "route_not_found"), 404));
  app.onError(handleError);
  return app;
}

/** The admin API, the dashboard (its files and its session, docs/dashboard.md) and the health check. */
const adminApp = surface();
adminApp.get("/healthz", (c) => c.json({ ok: true }));
adminApp.route("/ui", dashboardRouter);
adminApp.route("/auth", sessionRouter);
adminApp.use("/api/*", adminAuth);
// Data set uploads stream under their own, larger limit (MAX_UPLOAD_BYTES, src/core/datasetRows.ts).
adminApp.use(
  "/api/*",
  limitBody("MAX_ADMIN_BODY_BYTES", (c) => c.req.method === "POST" && c.req.path.replace(/\/+$/, "") === "/api/datasets"),
);
adminApp.route("/api", api);

/** The OpenAI-compatible endpoint, in a router of its own: a chat request never walks the admin API's route table. */
const proxyApp = surface();
proxyApp.route("/v1", v1);

/** True when the URL's path is `/v1` or below it (no URL parsing: this runs on every request). */
function isProxyPath(url: string): boolean {
  const path = url.indexOf("/", url.indexOf("://") + 3);
  return path !== -1 && url.startsWith("/v1", path) && (url.length === path + 3 || "/?#".includes(url.charAt(path + 3)));
}

export const app = {
  fetch: (request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> =>
    isProxyPath(request.url) ? proxyApp.fetch(request, env, ctx) : adminApp.fetch(request, env, ctx),
};
