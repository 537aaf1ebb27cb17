import type { AppEnv } from "./app-env";
import { adminAuth } from "./auth/admin-token";
import { loadConfig } from "./config";
import { notFound, onError } from "./errors/handler";
import { createRouter } from "./lib/router";
import { bodyGuard } from "./middleware/body-guard";
import { requestId } from "./middleware/request-id";
import { services } from "./middleware/services";
import { mountDocs } from "./routes/docs";
import { healthRoutes } from "./routes/health";

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const NEEDS_NO_SERVICES = new Set(["/api/health", "/api/ready", "/api/openapi.json", "/api/docs"]);

/** The HTTP application: middleware in the order every request meets it, then the routes. */
export function createApp() {
  const app = createRouter();
  app.use("*", requestId());
  app.use(
    "*",
    bodyGuard({
      maxBytes: (c) => loadConfig(c.env).config?.MAX_BODY_BYTES ?? DEFAULT_MAX_BODY_BYTES,
    }),
  );
  app.use("*", services({ bypass: (path) => NEEDS_NO_SERVICES.has(path) }));
  app.use("/api/ops/*", adminAuth());
  app.use("/api/admin/*", adminAuth());

  app.route("/", healthRoutes);
  mountDocs(app);

  app.notFound(notFound);
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;

export type { AppEnv };
