import { agentsRouter } from "./agents";
import { canaryRouter } from "./canary";
import { datasetsRouter } from "./datasets";
import { evaluationsRouter } from "./evaluations";
import { feedbackRouter } from "./feedback";
import { promotionsRouter } from "./promotions";
import { protocolsRouter } from "./protocols";
import { recoveryRouter } from "./recovery";
import { keysRouter } from "./keys";
import { maintenanceRouter } from "./maintenance";
import { libraryRouter } from "./library";
import { runsRouter } from "./runs";
import { servingRouter } from "./serving";
import { usageRouter } from "./usage";
import { newRouter } from "../router";

/** The admin API: a flat table of sub-routers, documented at /api/openapi.json. */
export const api = newRouter();

api.route("/agents", agentsRouter);
api.route("/agents", keysRouter);
api.route("/agents", libraryRouter);
api.route("/datasets", datasetsRouter);
api.route("/runs", runsRouter);
api.route("/agents", usageRouter);
api.route("/serving", servingRouter);
api.route("/evaluations", evaluationsRouter);
api.route("/agents", promotionsRouter);
api.route("/agents", canaryRouter);
api.route("/agents", feedbackRouter);
api.route("/protocols", protocolsRouter);
api.route("/maintenance", maintenanceRouter);
api.route("/recovery", recoveryRouter);

api.openAPIRegistry.registerComponent("securitySchemes", "adminToken", { type: "http", scheme: "bearer" });
api.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: { title: "tfgrpo-edge admin API", version: "0.1.0", description: "Training-Free GRPO on Cloudflare Workers." },
  // Paths are relative to the admin API's mount point.
  servers: [{ url: "/api" }],
  security: [{ adminToken: [] }],
});
