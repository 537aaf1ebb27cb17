import type { AppEnv } from "./app-env.ts";
import { adminAuth } from "./auth/admin-token.ts";
import { registerSecuritySchemes } from "./auth/openapi.ts";
import { loadConfig } from "./config/index.ts";
import { notFound, onError } from "./errors/handler.ts";
import { createRouter } from "./lib/router.ts";
import { bodyGuard } from "./middleware/body-guard.ts";
import { cors } from "./middleware/cors.ts";
import { requestId } from "./middleware/request-id.ts";
import { services } from "./middleware/services.ts";
import { requestLog } from "./ops/request-log.ts";
import { adminRoutes } from "./routes/admin/index.ts";
import { authRoutes } from "./routes/auth/index.ts";
import { billingRoutes } from "./routes/billing/index.ts";
import { consoleRoutes } from "./routes/console/index.ts";
import { mountDocs } from "./routes/docs/index.ts";
import { healthRoutes } from "./routes/health/index.ts";
import { jobsRoutes } from "./routes/jobs/index.ts";
import { keysRoutes } from "./routes/keys/index.ts";
import { ledgerRoutes } from "./routes/ledger/index.ts";
import { meRoutes } from "./routes/me/index.ts";
import { opsRoutes } from "./routes/ops/index.ts";

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const NEEDS_NO_SERVICES = new Set(["/api/health", "/api/ready", "/api/openapi.json", "/api/docs"]);

/** The HTTP application: middleware in the order every request meets it, then the routes. */
export function createApp() {
  const app = createRouter();
  app.use("*", requestId());
  app.use("*", requestLog());
  app.use("*", cors());
  app.use(
    "*",
    bodyGuard({
      maxBytes: (c) => loadConfig(c.env).config?.MAX_BODY_BYTES ?? DEFAULT_MAX_BODY_BYTES,
    }),
  );
  app.use("*", services({ bypass: (path) => NEEDS_NO_SERVICES.has(path) }));
  app.use("/api/ops/*", adminAuth());
  app.use("/api/admin/*", adminAuth());

  // Bench only (bench/run.mjs): one `select 1` through the request path's driver, the floor that
  // POST /api/jobs is measured against. Without BENCH_BASELINE_ROUTE=true (invalid in production) it
  // falls through to the 404 of an unknown path.
  app.get("/api/bench/select-1", async (c, next) => {
    const { config, database } = c.get("services");
    if (!config.BENCH_BASELINE_ROUTE) return next();
    await database.sql.query("select 1");
    return c.json({ ok: true });
  });

  app.route("/", healthRoutes);
  app.route("/", authRoutes);
  app.route("/", keysRoutes);
  app.route("/", meRoutes);
  app.route("/", ledgerRoutes);
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

export type { AppEnv };
