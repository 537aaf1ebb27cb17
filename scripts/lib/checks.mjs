// The checks triage and monitor share: /api/health, /api/ready and every figure of /api/ops/metrics
// against its alert threshold, each problem with its likely cause and its runbook in the playbook.
import { bearer, describeAnswer, request } from "./http.ts";

export const PLAYBOOK = "docs/INCIDENT_RESPONSE_PLAYBOOK.md";

/** Values that ship in `.dev.vars.example` and the test setup. Mirrors src/config/rules.ts (a test checks). */
export const DEV_DEFAULT_SECRETS = [
  "dev-admin-token-change-me",
  "dev-better-auth-secret-change-me-0123456789",
  "whsec_tollgate_local_dev",
  "sk_test_tollgate_local",
  "test-admin-token",
];

/** The defaults of the threshold variables in src/config/schema.ts (a test checks they agree). */
export const DEFAULT_THRESHOLDS = {
  webhook_failures: 5, // ALERT_WEBHOOK_FAILURES_1H
  failed_jobs: 10, // ALERT_FAILED_JOBS_1H
  worker_heartbeat: 180, // HEARTBEAT_STALE_AFTER_S
  queue_growth: 100, // ALERT_QUEUE_GROWTH_1H
  dead_letter_growth: 1, // ALERT_DEAD_LETTER_GROWTH_1H
  ledger_drift: null,
  reconcile_repairs: 1, // ALERT_RECONCILE_REPAIRS_24H
};

/** @typedef {"ok" | "warn" | "critical" | "skip"} Severity */
/** @typedef {{ check: string, severity: Severity, detail: string, cause?: string, anchor?: string }} Finding */

const atLeast = (/** @type {string} */ field) => (/** @type {any} */ m, /** @type {number | null} */ t) =>
  t !== null && Number(m[field]) >= t;

/**
 * One entry per alert rule of src/ops/alerts/rules.ts (same names, same breach test), with the severity
 * triage gives it and the playbook section (`#anchor`) that says what to do.
 */
export const FIGURES = [
  {
    rule: "webhook_failures",
    field: "webhook_failures_1h",
    unit: "in the last hour",
    severity: "critical",
    anchor: "webhook-failures",
    breached: atLeast("webhook_failures_1h"),
    cause:
      "Stripe deliveries failed on the database (503, Stripe retries them) or were rejected by fulfilment " +
      "(amount, pack or account not what was sold: edited metadata or a changed CREDIT_PACKS). Paid top-ups may be missing.",
  },
  {
    rule: "failed_jobs",
    field: "failed_jobs_1h",
    unit: "in the last hour",
    severity: "warn",
    anchor: "failed-jobs",
    breached: atLeast("failed_jobs_1h"),
    cause:
      "Jobs end failed or dead_lettered: a job type failing on its input or on something it calls, or a bad deploy.",
  },
  {
    rule: "worker_heartbeat",
    field: "worker_heartbeat_age_s",
    unit: "seconds old",
    severity: "critical",
    anchor: "worker-heartbeat-stale",
    /** As src/ops/alerts/rules.ts: old, or missing although snapshots have run for longer than the threshold. */
    breached: (/** @type {any} */ m, /** @type {number | null} */ t, now = new Date()) => {
      if (t === null) return false;
      if (m.worker_heartbeat_age_s !== null && m.worker_heartbeat_age_s !== undefined)
        return Number(m.worker_heartbeat_age_s) > t;
      if (!m.growth_since) return false;
      return (now.getTime() - Date.parse(m.growth_since)) / 1000 > t;
    },
    cause:
      "The queue consumer is not recording heartbeats: the worker Worker is not deployed or is failing, " +
      "MVP_WORKER_ENABLED is false where it should be true, or the web Worker's cron is not running.",
  },
  {
    rule: "queue_growth",
    field: "queue_growth_1h",
    unit: "more queued jobs than an hour ago",
    severity: "warn",
    anchor: "queue-growth",
    breached: atLeast("queue_growth_1h"),
    cause: "Jobs are queued faster than they are consumed: the consumer is down or slow, or traffic spiked.",
  },
  {
    rule: "dead_letter_growth",
    field: "dead_letter_growth_1h",
    unit: "new dead letters in the last hour",
    severity: "warn",
    anchor: "dead-letter-growth",
    breached: atLeast("dead_letter_growth_1h"),
    cause:
      "Jobs exhausted their retries and reached the dead-letter queue: a failing job type or a downstream outage.",
  },
  {
    rule: "ledger_drift",
    field: "ledger_ok",
    unit: "",
    severity: "critical",
    anchor: "ledger-drift",
    breached: (/** @type {any} */ m) => m.ledger_ok !== true,
    cause:
      "ledger_check() reports a broken invariant: credits may have been created or lost. Stop and investigate.",
  },
  {
    rule: "reconcile_repairs",
    field: "reconcile_repairs_24h",
    unit: "top-ups repaired in the last 24 hours",
    severity: "warn",
    anchor: "reconciliation-repairs",
    breached: atLeast("reconcile_repairs_24h"),
    cause:
      "Reconciliation credited paid Checkout Sessions the webhook had missed: the endpoint is misconfigured, " +
      "disabled, or its deliveries fail.",
  },
];

/** Sections every failure of health, ready or metrics points to (besides the per-rule ones above). */
export const ANCHORS = {
  apiDown: "api-down",
  database: "database-unreachable",
  migrations: "migrations-pending",
  config: "config-invalid",
  heartbeat: "worker-heartbeat-stale",
  metrics: "metrics-unavailable",
  smoke: "smoke-failing",
};

/** GitHub's heading anchors: lowercase, punctuation dropped except - and _, each space a -. */
export function githubSlug(/** @type {string} */ heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

export const playbookLink = (/** @type {string} */ anchor) => `${PLAYBOOK}#${anchor}`;

/** @param {string} base */
export async function checkHealth(base) {
  try {
    const answer = await request(`${base}/api/health`);
    if (answer.status === 200 && answer.body?.ok === true)
      return finding("health", "ok", `200 in ${answer.ms} ms`);
    return finding("health", "critical", describeAnswer(answer), {
      cause: "The Worker answers but not healthy: a failed deploy, or a route in front of it.",
      anchor: ANCHORS.apiDown,
    });
  } catch (error) {
    return finding("health", "critical", /** @type {Error} */ (error).message, {
      cause: "The API does not answer: not deployed, wrong URL, DNS or a Cloudflare outage.",
      anchor: ANCHORS.apiDown,
    });
  }
}

/**
 * `/api/ready`: one finding for the whole, plus one per failing or warning check it names.
 * @param {string} base
 * @returns {Promise<{ findings: Finding[], body: any }>}
 */
export async function checkReady(base) {
  let answer;
  try {
    answer = await request(`${base}/api/ready`);
  } catch (error) {
    return {
      body: null,
      findings: [
        finding("ready", "critical", /** @type {Error} */ (error).message, {
          cause: "The API does not answer.",
          anchor: ANCHORS.apiDown,
        }),
      ],
    };
  }
  const body = answer.body;
  if (!body || typeof body.ok !== "boolean" || typeof body.checks !== "object") {
    return {
      body,
      findings: [
        finding("ready", "critical", `unexpected answer: ${describeAnswer(answer)}`, {
          cause: "Something other than Tollgate answers at this URL, or the Worker failed before routing.",
          anchor: ANCHORS.apiDown,
        }),
      ],
    };
  }
  /** @type {Finding[]} */
  const findings = [];
  const summary = Object.entries(body.checks)
    .map(([name, c]) => `${name} ${/** @type {any} */ (c).status}`)
    .join(", ");
  findings.push(
    finding(
      "ready",
      body.ok ? (body.status === "warn" ? "warn" : "ok") : "critical",
      `${answer.status} ok=${body.ok} (${summary})`,
    ),
  );
  for (const [name, check] of Object.entries(body.checks)) {
    const c =
      /** @type {{ status: string, detail: string, problems?: { variable: string, rule: string }[] }} */ (
        check
      );
    if (c.status === "pass") continue;
    const severity = c.status === "fail" ? "critical" : "warn";
    findings.push(finding(`ready: ${name}`, severity, c.detail, readyCause(name, c)));
  }
  // The ready finding itself carries no cause when its parts do.
  if (findings.length > 1) delete findings[0].cause;
  return { findings, body };
}

/** @param {string} name @param {{ detail: string, problems?: { variable: string, rule: string }[] }} check */
function readyCause(name, check) {
  switch (name) {
    case "database":
      return {
        cause:
          check.detail === "DATABASE_URL is not set"
            ? "The DATABASE_URL secret is missing on this Worker."
            : `The database is ${check.detail}: Neon down or suspended, DATABASE_URL wrong or rotated, or the network.`,
        anchor: ANCHORS.database,
      };
    case "schema":
      if (check.detail.startsWith("unknown"))
        return { cause: "Follows from the database check.", anchor: ANCHORS.database };
      return {
        cause: "The database is behind this deployment's migrations: run npm run db:migrate.",
        anchor: ANCHORS.migrations,
      };
    case "config": {
      const names = (check.problems ?? []).map((p) => `${p.variable} (${p.rule})`).join(", ");
      return {
        cause: `The Worker's configuration is invalid for its environment${names ? `: ${names}` : ""}.`,
        anchor: ANCHORS.config,
      };
    }
    case "heartbeat":
      return {
        cause: "The queue consumer's last heartbeat is old: jobs are not being run.",
        anchor: ANCHORS.heartbeat,
      };
    default:
      return { cause: `readiness check ${name} is not passing.`, anchor: ANCHORS.apiDown };
  }
}

/**
 * `/api/ops/metrics` and the thresholds: from the metrics answer if it carries them, else from
 * `/api/ops/alerts` (each rule's threshold as the cron last evaluated it), else src/config's defaults.
 * @param {string} base
 * @param {string | undefined} token
 * @param {{ now?: Date }} [options]
 * @returns {Promise<{ findings: Finding[], metrics: any, thresholdSource: string }>}
 */
export async function checkMetrics(base, token, options = {}) {
  if (!token) {
    return {
      metrics: null,
      thresholdSource: "none",
      findings: [finding("metrics", "skip", "no admin token (--token or BACKEND_ADMIN_TOKEN): not checked")],
    };
  }
  let answer;
  try {
    answer = await request(`${base}/api/ops/metrics`, { headers: bearer(token) });
  } catch (error) {
    return {
      metrics: null,
      thresholdSource: "none",
      findings: [
        finding("metrics", "critical", /** @type {Error} */ (error).message, {
          cause: "The API does not answer.",
          anchor: ANCHORS.metrics,
        }),
      ],
    };
  }
  if (answer.status === 401) {
    return {
      metrics: null,
      thresholdSource: "none",
      findings: [
        finding("metrics", "warn", describeAnswer(answer), {
          cause:
            "The admin token was refused: BACKEND_ADMIN_TOKEN differs from the Worker's ADMIN_TOKEN " +
            "(rotated without updating this client?).",
          anchor: ANCHORS.metrics,
        }),
      ],
    };
  }
  if (answer.status !== 200 || !answer.body || typeof answer.body !== "object") {
    return {
      metrics: null,
      thresholdSource: "none",
      findings: [
        finding("metrics", "critical", describeAnswer(answer), {
          cause: "The metrics could not be read: usually the database (see ready).",
          anchor: ANCHORS.metrics,
        }),
      ],
    };
  }
  const metrics = answer.body;
  const { thresholds, source } = await readThresholds(base, token, metrics);
  /** @type {Finding[]} */
  const findings = [finding("metrics", "ok", `200 in ${answer.ms} ms; thresholds from ${source}`)];
  for (const figure of FIGURES) findings.push(evaluateFigure(figure, metrics, thresholds, options.now));
  return { findings, metrics, thresholdSource: source };
}

/**
 * @param {string} base @param {string} token @param {any} metrics
 * @returns {Promise<{ thresholds: Record<string, number | null>, source: string }>}
 */
async function readThresholds(base, token, metrics) {
  if (metrics.thresholds && typeof metrics.thresholds === "object") {
    return { thresholds: { ...DEFAULT_THRESHOLDS, ...metrics.thresholds }, source: "the metrics answer" };
  }
  try {
    const answer = await request(`${base}/api/ops/alerts`, { headers: bearer(token) });
    const rows = Array.isArray(answer.body?.data) ? answer.body.data : [];
    /** @type {Record<string, number | null>} */
    const found = {};
    for (const row of rows) {
      if (row && typeof row.rule === "string" && row.rule in DEFAULT_THRESHOLDS)
        found[row.rule] = row.threshold;
    }
    if (Object.keys(found).length > 0)
      return {
        thresholds: { ...DEFAULT_THRESHOLDS, ...found },
        source: "/api/ops/alerts (the cron's last evaluation)",
      };
  } catch {
    // fall through to the defaults
  }
  return { thresholds: { ...DEFAULT_THRESHOLDS }, source: "src/config defaults (no alert evaluation yet)" };
}

/**
 * @param {(typeof FIGURES)[number]} figure @param {any} metrics
 * @param {Record<string, number | null>} thresholds @param {Date} [now]
 * @returns {Finding}
 */
export function evaluateFigure(figure, metrics, thresholds, now = new Date()) {
  const threshold = thresholds[figure.rule] ?? null;
  const raw = metrics[figure.field];
  const breached = figure.breached(metrics, threshold, now);
  let shown;
  if (figure.rule === "ledger_drift") shown = raw === true ? "ledger_check() ok" : "ledger_check() FAILS";
  else if (raw === null || raw === undefined) shown = `${figure.field}: none yet`;
  else shown = `${figure.field}=${raw}`;
  const limit =
    threshold === null
      ? ""
      : figure.rule === "worker_heartbeat"
        ? ` (stale above ${threshold})`
        : ` (threshold ${threshold})`;
  return finding(
    figure.rule,
    breached ? /** @type {Severity} */ (figure.severity) : "ok",
    `${shown}${limit}`,
    breached ? { cause: figure.cause, anchor: figure.anchor } : {},
  );
}

/**
 * @param {string} check @param {Severity} severity @param {string} detail
 * @param {{ cause?: string, anchor?: string }} [extra]
 * @returns {Finding}
 */
export function finding(check, severity, detail, extra = {}) {
  return { check, severity, detail, ...extra };
}

/** Health, ready and metrics in one go (what monitor runs, and triage's core). */
export async function runOperationalChecks(
  /** @type {string} */ base,
  /** @type {string | undefined} */ token,
) {
  const health = await checkHealth(base);
  const ready = await checkReady(base);
  const metrics = await checkMetrics(base, token);
  return {
    findings: [health, ...ready.findings, ...metrics.findings],
    ready: ready.body,
    metrics: metrics.metrics,
    thresholdSource: metrics.thresholdSource,
  };
}

/** 0 when everything is ok (or skipped), 1 with a warning, 2 with anything critical. */
export function exitCodeFor(/** @type {Finding[]} */ findings) {
  if (findings.some((f) => f.severity === "critical")) return 2;
  if (findings.some((f) => f.severity === "warn")) return 1;
  return 0;
}
