import { notFound, onError } from "./errors/handler.ts";
import { adminAuth } from "./middleware/admin-auth.ts";
import { bodyGuard } from "./middleware/body-guard.ts";
import { cors } from "./middleware/cors.ts";
import { requestId } from "./middleware/request-id.ts";
import { requestLog } from "./middleware/request-log.ts";
import { requireServices, services } from "./middleware/services.ts";
import { consoleRoutes } from "./pages/ops/index.ts";
import { adminRoutes } from "./routes/admin/index.ts";
import { authRoutes } from "./routes/auth.ts";
import { benchRoutes } from "./routes/bench.ts";
import { billingRoutes } from "./routes/billing/index.ts";
import { mountDocs } from "./routes/docs/index.ts";
import { healthRoutes } from "./routes/health.ts";
import { jobsRoutes } from "./routes/jobs/index.ts";
import { keysRoutes } from "./routes/keys/index.ts";
import { meRoutes } from "./routes/me.ts";
import { opsRoutes } from "./routes/ops/index.ts";
import { readyRoutes } from "./routes/ready.ts";
import { createRouter } from "./routes/router.ts";
import { registerSecuritySchemes } from "./routes/security.ts";

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const NEEDS_NO_SERVICES = new Set(["/api/health", "/api/ready", "/api/openapi.json", "/api/docs"]);

/** The HTTP application: middleware in the order every request meets it, then the routes. */
export function createApp() {
  const app = createRouter();
  app.use("*", requestId());
  app.use("*", requestLog());
  app.use("*", services());
  app.use("*", cors());
  app.use(
    "*",
    bodyGuard({
      maxBytes: (c) => c.get("configResult").config?.MAX_BODY_BYTES ?? DEFAULT_MAX_BODY_BYTES,
    }),
  );
  app.use("*", requireServices({ bypass: (path) => NEEDS_NO_SERVICES.has(path) }));
  app.use("/api/ops/*", adminAuth());
  app.use("/api/admin/*", adminAuth());

  app.route("/", benchRoutes);
  app.route("/", healthRoutes);
  app.route("/", readyRoutes);
  app.route("/", authRoutes);
  app.route("/", keysRoutes);
  app.route("/", meRoutes);
  app.route("/", adminRoutes);
  app.route("/", billingRoutes);
  app.route("/", jobsRoutes);
  app.route("/", opsRoutes);
  app.route("/", consoleRoutes);
  registerSecuritySchemes(app);
  mountDocs(app);

  app.notFound(notFound);
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;
