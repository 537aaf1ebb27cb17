/**
 * The import rules of src/ (docs/ARCHITECTURE.md, Code layout): no circles, and imports run one way,
 * from the entry points down to the base. Checked by `npm run lint`.
 */
const BASE = "^src/(db|config|errors|telemetry|lib)/|^src/services\\.ts$";
const LEDGER = "^src/ledger/";
const DOMAINS = "^src/(auth|jobs|billing|ops)/";
const HTTP = "^src/(middleware|routes|pages)/|^src/app-env\\.ts$";
const RUNNERS = "^src/(cron|queue)/";
const ENTRY = "^src/(index|app)\\.ts$";

const forbid = (name, comment, from, to) => ({
  name,
  comment,
  severity: "error",
  from: { path: from },
  to: { path: to },
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "An import circle in src/ makes its modules impossible to read or load in isolation.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    forbid(
      "src-stands-alone",
      "The Worker bundles src/ only; tools and tests import it, never the reverse.",
      "^src/",
      "^(scripts|bench|test)/",
    ),
    forbid(
      "lib-is-a-leaf",
      "src/lib holds helpers with no dependency inside src.",
      "^src/lib/",
      "^src/(?!lib/)",
    ),
    forbid(
      "base-below-everything",
      "db, config, errors, telemetry and lib know nothing of what builds on them.",
      BASE,
      `${LEDGER}|${DOMAINS}|${HTTP}|${RUNNERS}|${ENTRY}`,
    ),
    forbid(
      "ledger-below-domains",
      "The ledger knows nothing of jobs, billing, auth or ops.",
      LEDGER,
      `${DOMAINS}|${HTTP}|${RUNNERS}|${ENTRY}`,
    ),
    forbid(
      "domains-below-entry-layer",
      "A domain never imports a route, a middleware, a page, a runner or the app.",
      DOMAINS,
      `${HTTP}|${RUNNERS}|${ENTRY}`,
    ),
    forbid(
      "ops-above-the-other-domains",
      "ops may read jobs, billing and auth; they never import ops.",
      "^src/(auth|jobs|billing)/",
      "^src/ops/",
    ),
    forbid(
      "auth-below-jobs-and-billing",
      "auth is used by the other domains, not the reverse.",
      "^src/auth/",
      "^src/(jobs|billing)/",
    ),
    forbid(
      "jobs-and-billing-apart",
      "Jobs and billing meet only in the ledger and in SQL.",
      "^src/jobs/",
      "^src/billing/",
    ),
    forbid(
      "billing-and-jobs-apart",
      "Jobs and billing meet only in the ledger and in SQL.",
      "^src/billing/",
      "^src/jobs/",
    ),
    forbid(
      "middleware-below-routes",
      "Middleware is mounted by routes and the app, never the reverse.",
      "^src/middleware/",
      "^src/(routes|pages)/|^src/(cron|queue)/",
    ),
    forbid(
      "runners-apart-from-http",
      "Cron and queue runners use the domains, not the HTTP layer.",
      RUNNERS,
      HTTP,
    ),
    forbid("entry-on-top", "Only the Worker's entry imports the app.", `^src/(?!index\\.ts$)`, ENTRY),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "\\.json$" },
  },
};
