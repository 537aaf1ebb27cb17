import { createRouter } from "./router.ts";

/**
 * Bench only (bench/run.ts): one `select 1` through the request path's driver, the floor that
 * POST /api/jobs is measured against. Without BENCH_BASELINE_ROUTE=true (invalid in production) it
 * falls through to the 404 of an unknown path.
 */
export const benchRoutes = createRouter().get("/api/bench/select-1", async (c, next) => {
  const { config, database } = c.get("services");
  if (!config.BENCH_BASELINE_ROUTE) return next();
  await database.sql.query("select 1");
  return c.json({ ok: true });
});
