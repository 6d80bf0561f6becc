import { Hono } from "hono";
import { errorBody, handleError } from "./errors";
import { adminAuth } from "./auth/adminAuth";
import { api } from "./routes/api";
import { v1 } from "./routes/v1";
import type { AppEnv } from "./types";
import { randomToken } from "./auth/crypto";

export const app = new Hono<AppEnv>();

app.use(async (c, next) => {
  const requestId = `req_${randomToken(12)}`;
  c.set("requestId", requestId);
  await next();
  c.header("x-request-id", requestId);
});

app.get("/healthz", (c) => c.json({ ok: true }));
app.use("/api/*", adminAuth);
app.route("/api", api);
app.route("/v1", v1);

app.notFound((c) => c.json(errorBody(404, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`, "route_not_found"), 404));
app.onError(handleError);
