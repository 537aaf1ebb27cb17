// The checks triage and monitor share: /api/health, /api/ready and every figure of /api/ops/metrics
// against its alert threshold, each problem with its likely cause and its runbook in the playbook.
// The rules, their breach tests and their default thresholds are the Worker's own (src/).
import { ConfigSchema } from "../../src/config/schema.ts";
import { ALERT_RULES, type AlertRule } from "../../src/ops/alerts/rules.ts";
import { OpsMetrics } from "../../src/ops/metrics.ts";
import { bearer, describeAnswer, request } from "./http.ts";

export const PLAYBOOK = "docs/INCIDENT_RESPONSE_PLAYBOOK.md";

export type Severity = "ok" | "warn" | "critical" | "skip";
export type Finding = { check: string; severity: Severity; detail: string; cause?: string; anchor?: string };
/** Rule name → threshold (null: the rule has none). */
export type Thresholds = Record<string, number | null>;
/** A JSON answer, read field by field. */
export type JsonObject = Record<string, unknown>;

/** Each rule's threshold when no variable overrides it: the defaults of src/config/schema.ts. */
export const DEFAULT_THRESHOLDS: Thresholds = (() => {
  // Only the variables without a default; none of them bears on a threshold.
  const defaults = ConfigSchema.parse({
    ENVIRONMENT: "local",
    DATABASE_URL: "postgres://defaults",
    ADMIN_TOKEN: "defaults",
  });
  return Object.fromEntries(ALERT_RULES.map((rule) => [rule.name, rule.threshold(defaults)]));
})();

/** What triage says about an alert rule when it is breached. */
export type RuleGuide = {
  severity: "warn" | "critical";
  /** The playbook section (`#anchor`) that says what to do. */
  anchor: string;
  cause: string;
};

/** One guide per alert rule of src/ops/alerts/rules.ts, by rule name. */
export const RULE_GUIDES: Record<string, RuleGuide> = {
  webhook_failures: {
    severity: "critical",
    anchor: "webhook-failures",
    cause:
      "Stripe deliveries failed on the database (503, Stripe retries them) or were rejected by fulfilment " +
      "(amount, pack or account not what was sold: edited metadata or a changed CREDIT_PACKS). Paid top-ups may be missing.",
  },
  failed_jobs: {
    severity: "warn",
    anchor: "failed-jobs",
    cause:
      "Jobs end failed or dead_lettered: a job type failing on its input or on something it calls, or a bad deploy.",
  },
  worker_heartbeat: {
    severity: "critical",
    anchor: "worker-heartbeat-stale",
    cause:
      "The queue consumer is not recording heartbeats: the worker Worker is not deployed or is failing, " +
      "MVP_WORKER_ENABLED is false where it should be true, or the web Worker's cron is not running.",
  },
  queue_growth: {
    severity: "warn",
    anchor: "queue-growth",
    cause: "Jobs are queued faster than they are consumed: the consumer is down or slow, or traffic spiked.",
  },
  dead_letter_growth: {
    severity: "warn",
    anchor: "dead-letter-growth",
    cause:
      "Jobs exhausted their retries and reached the dead-letter queue: a failing job type or a downstream outage.",
  },
  ledger_drift: {
    severity: "critical",
    anchor: "ledger-drift",
    cause:
      "ledger_check() reports a broken invariant: credits may have been created or lost. Stop and investigate.",
  },
  reconcile_repairs: {
    severity: "warn",
    anchor: "reconciliation-repairs",
    cause:
      "Reconciliation credited paid Checkout Sessions the webhook had missed: the endpoint is misconfigured, " +
      "disabled, or its deliveries fail.",
  },
};

/** A rule's guide; a rule added without one still reports, as a warning pointing at the metrics runbook. */
export function ruleGuide(rule: AlertRule): RuleGuide {
  return (
    RULE_GUIDES[rule.name] ?? { severity: "warn", anchor: ANCHORS.metrics, cause: `${rule.title}: breached.` }
  );
}

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

/** Every playbook section triage and monitor can point to. */
export function playbookAnchors(): string[] {
  return [...new Set([...ALERT_RULES.map((r) => ruleGuide(r).anchor), ...Object.values(ANCHORS)])];
}

/** GitHub's heading anchors: lowercase, punctuation dropped except - and _, each space a -. */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

export const playbookLink = (anchor: string) => `${PLAYBOOK}#${anchor}`;

export async function checkHealth(base: string): Promise<Finding> {
  try {
    const answer = await request(`${base}/api/health`);
    if (answer.status === 200 && answer.body?.ok === true)
      return finding("health", "ok", `200 in ${answer.ms} ms`);
    return finding("health", "critical", describeAnswer(answer), {
      cause: "The Worker answers but not healthy: a failed deploy, or a route in front of it.",
      anchor: ANCHORS.apiDown,
    });
  } catch (error) {
    return finding("health", "critical", (error as Error).message, {
      cause: "The API does not answer: not deployed, wrong URL, DNS or a Cloudflare outage.",
      anchor: ANCHORS.apiDown,
    });
  }
}

type ReadyCheck = { status: string; detail: string; problems?: { variable: string; rule: string }[] };
export type ReadyBody = { ok: boolean; status?: string; checks: Record<string, ReadyCheck> };

/** `/api/ready`: one finding for the whole, plus one per failing or warning check it names. */
export async function checkReady(base: string): Promise<{ findings: Finding[]; body: unknown }> {
  let answer: Awaited<ReturnType<typeof request>>;
  try {
    answer = await request(`${base}/api/ready`);
  } catch (error) {
    return {
      body: null,
      findings: [
        finding("ready", "critical", (error as Error).message, {
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
  const ready = body as ReadyBody;
  const summary = Object.entries(ready.checks)
    .map(([name, c]) => `${name} ${c.status}`)
    .join(", ");
  const whole = finding(
    "ready",
    ready.ok ? (ready.status === "warn" ? "warn" : "ok") : "critical",
    `${answer.status} ok=${ready.ok} (${summary})`,
  );
  const findings: Finding[] = [whole];
  for (const [name, check] of Object.entries(ready.checks)) {
    if (check.status === "pass") continue;
    const severity = check.status === "fail" ? "critical" : "warn";
    findings.push(finding(`ready: ${name}`, severity, check.detail, readyCause(name, check)));
  }
  // The ready finding itself carries no cause when its parts do.
  if (findings.length > 1) delete whole.cause;
  return { findings, body };
}

function readyCause(name: string, check: ReadyCheck): { cause: string; anchor: string } {
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

export type MetricsCheck = { findings: Finding[]; metrics: JsonObject | null; thresholdSource: string };

/**
 * `/api/ops/metrics` and the thresholds: from the metrics answer if it carries them, else from
 * `/api/ops/alerts` (each rule's threshold as the cron last evaluated it), else src/config's defaults.
 */
export async function checkMetrics(
  base: string,
  token: string | undefined,
  options: { now?: Date } = {},
): Promise<MetricsCheck> {
  const none = (f: Finding): MetricsCheck => ({ metrics: null, thresholdSource: "none", findings: [f] });
  if (!token)
    return none(finding("metrics", "skip", "no admin token (--token or BACKEND_ADMIN_TOKEN): not checked"));
  let answer: Awaited<ReturnType<typeof request>>;
  try {
    answer = await request(`${base}/api/ops/metrics`, { headers: bearer(token) });
  } catch (error) {
    return none(
      finding("metrics", "critical", (error as Error).message, {
        cause: "The API does not answer.",
        anchor: ANCHORS.metrics,
      }),
    );
  }
  if (answer.status === 401) {
    return none(
      finding("metrics", "warn", describeAnswer(answer), {
        cause:
          "The admin token was refused: BACKEND_ADMIN_TOKEN differs from the Worker's ADMIN_TOKEN " +
          "(rotated without updating this client?).",
        anchor: ANCHORS.metrics,
      }),
    );
  }
  if (answer.status !== 200 || !answer.body || typeof answer.body !== "object") {
    return none(
      finding("metrics", "critical", describeAnswer(answer), {
        cause: "The metrics could not be read: usually the database (see ready).",
        anchor: ANCHORS.metrics,
      }),
    );
  }
  const metrics = answer.body as JsonObject;
  // Read as the Worker reads its own figures, so each rule's breach test sees what it sees; a figure
  // the answer lacks (an older deployment) reads as none yet.
  const absent = Object.fromEntries(Object.keys(OpsMetrics.shape).map((field) => [field, null]));
  const figures = OpsMetrics.safeParse({ ...absent, ...metrics });
  if (!figures.success) {
    const fields = [...new Set(figures.error.issues.map((i) => String(i.path[0] ?? "")))].join(", ");
    return none(
      finding("metrics", "critical", `unexpected answer: ${fields} not as Tollgate sends them`, {
        cause: "Something other than Tollgate answers at this URL, or a version that sends other figures.",
        anchor: ANCHORS.metrics,
      }),
    );
  }
  const { thresholds, source } = await readThresholds(base, token, metrics);
  const findings = [finding("metrics", "ok", `200 in ${answer.ms} ms; thresholds from ${source}`)];
  for (const rule of ALERT_RULES)
    findings.push(evaluateRule(rule, figures.data, metrics, thresholds, options.now));
  return { findings, metrics, thresholdSource: source };
}

async function readThresholds(
  base: string,
  token: string,
  metrics: JsonObject,
): Promise<{ thresholds: Thresholds; source: string }> {
  if (metrics.thresholds && typeof metrics.thresholds === "object") {
    return {
      thresholds: { ...DEFAULT_THRESHOLDS, ...(metrics.thresholds as Thresholds) },
      source: "the metrics answer",
    };
  }
  try {
    const answer = await request(`${base}/api/ops/alerts`, { headers: bearer(token) });
    const rows: unknown[] = Array.isArray(answer.body?.data) ? answer.body.data : [];
    const found: Thresholds = {};
    for (const row of rows) {
      const r = row as { rule?: unknown; threshold?: number | null } | null;
      if (r && typeof r.rule === "string" && r.rule in DEFAULT_THRESHOLDS)
        found[r.rule] = r.threshold ?? null;
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
 * One rule against the figures, with the rule's own breach test; the finding shows the figure as the
 * answer (`metrics`) gave it.
 */
export function evaluateRule(
  rule: AlertRule,
  figures: OpsMetrics,
  metrics: JsonObject,
  thresholds: Thresholds,
  now: Date = new Date(),
): Finding {
  const threshold = thresholds[rule.name] ?? null;
  const breached = rule.breached(figures, threshold, now);
  const raw = metrics[rule.metric];
  let shown: string;
  if (rule.name === "ledger_drift") shown = raw === true ? "ledger_check() ok" : "ledger_check() FAILS";
  else if (raw === null || raw === undefined) shown = `${rule.metric}: none yet`;
  else shown = `${rule.metric}=${raw}`;
  const limit =
    threshold === null
      ? ""
      : rule.name === "worker_heartbeat"
        ? ` (stale above ${threshold})`
        : ` (threshold ${threshold})`;
  const guide = ruleGuide(rule);
  return finding(
    rule.name,
    breached ? guide.severity : "ok",
    `${shown}${limit}`,
    breached ? { cause: guide.cause, anchor: guide.anchor } : {},
  );
}

export function finding(
  check: string,
  severity: Severity,
  detail: string,
  extra: { cause?: string; anchor?: string } = {},
): Finding {
  return { check, severity, detail, ...extra };
}

/** Health, ready and metrics in one go (what monitor runs, and triage's core). */
export async function runOperationalChecks(base: string, token: string | undefined) {
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
export function exitCodeFor(findings: readonly Finding[]): 0 | 1 | 2 {
  if (findings.some((f) => f.severity === "critical")) return 2;
  if (findings.some((f) => f.severity === "warn")) return 1;
  return 0;
}
