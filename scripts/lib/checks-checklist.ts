// The go-live checklist, line by line (docs/GO_LIVE_CHECKLIST.md): each line's text, verbatim from the
// MVP checklist, and how it is checked. scripts/go-live.ts builds the context (config, secrets, the
// running deployment) and runs them in order.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ALERT_RULES } from "../../src/ops/alerts/rules.ts";
import {
  ANCHORS,
  githubSlug,
  type JsonObject,
  PLAYBOOK,
  playbookAnchors,
  type ReadyBody,
  ruleGuide,
} from "./checks.ts";
import { type CheckoutSession, checkWebhookReplay } from "./checks-billing.ts";
import { fileExists, originProblems, type Target, type WorkerConfig } from "./checks-config.ts";
import { describeAnswer, type HttpAnswer } from "./http.ts";

export type Status = "pass" | "fail" | "manual" | "n/a" | "skip";
export type Outcome = { status: Status; detail: string };
export type Line = { section: string; text: string; sub?: boolean; run: () => Promise<Outcome> };

/** A workflow file of .github/workflows: parsed, as text, and the secrets it reads. */
export type Workflow = {
  doc: {
    name?: string;
    on?: { schedule?: unknown; workflow_dispatch?: unknown };
    jobs?: Record<string, { needs?: string | string[]; steps?: unknown[] }>;
  };
  text: string;
  usedSecrets: Set<string>;
};

/** Where secret values come from; `values` when the source has them, `error` when there is none. */
export type SecretSource = { label: string; values?: Record<string, string | undefined>; error?: string };

/** What one of the operations commands run inside go-live reported. */
export type TaskOutcome = { ok: boolean; detail: string };

export type VitestRun = {
  code: number;
  output: string;
  summary: { file: string; detail: string; failed?: number }[];
};

/** What scripts/go-live.ts knows and can do: the run's settings and its memoized tasks. */
export type ChecklistContext = {
  ROOT: string;
  target: Target;
  strict: boolean;
  base: string | undefined;
  skipTests: boolean;
  source: SecretSource;
  setting: (name: string) => string | undefined;
  configs: () => Promise<WorkerConfig[]>;
  secretProblems: (names: readonly string[]) => Promise<string[]>;
  requiredSecrets: () => string[];
  workersText: () => Promise<string>;
  live: (what: string) => Outcome | undefined;
  ready: () => Promise<HttpAnswer>;
  metrics: () => Promise<JsonObject>;
  smoke: () => Promise<TaskOutcome & { apiKey: string | undefined }>;
  monitor: () => Promise<TaskOutcome>;
  triage: () => Promise<TaskOutcome>;
  checkout: () => Promise<CheckoutSession>;
  migrations: () => Promise<string>;
  backup: () => Promise<{ path: string; name: string }>;
  restore: () => Promise<string>;
  stripeEndpoint: () => Promise<Outcome>;
  readWorkflow: (file: string) => Workflow;
  vitest: () => Promise<VitestRun>;
};

const pass = (detail: string): Outcome => ({ status: "pass", detail });
const fail = (detail: string): Outcome => ({ status: "fail", detail });
const manual = (detail: string): Outcome => ({ status: "manual", detail });
const na = (detail: string): Outcome => ({ status: "n/a", detail });
const skip = (detail: string): Outcome => ({ status: "skip", detail });

export const MONITOR_SECRETS = ["BACKEND_BASE_URL", "BACKEND_ADMIN_TOKEN", "MONITOR_ALERT_WEBHOOK_URL"];

/**
 * Every line of the checklist, bound to one run's context.
 */
export function checklistLines(ctx: ChecklistContext): Line[] {
  const {
    ROOT,
    target,
    strict,
    base,
    skipTests,
    source,
    setting,
    configs,
    secretProblems,
    requiredSecrets,
    workersText,
    live,
    ready,
    metrics,
    smoke,
    monitor,
    triage,
    checkout,
    migrations,
    backup,
    restore,
    stripeEndpoint,
    readWorkflow,
    vitest,
  } = ctx;

  /** A rotation line: manual (a person rolls the value), unless the value that is there is wrong. */
  const rotation = (names: string[], how: string) => async () => {
    const problems = await secretProblems(names);
    if (problems.length > 0) return fail(`${problems.join("; ")} [source: ${source.label}]`);
    if (target === "local")
      return na(`local: ${names.join(", ")} set; development values are fine here [source: ${source.label}]`);
    return manual(
      `${how}; checked: set on ${await workersText()}${source.values ? ", not a development default" : ""} [source: ${source.label}]`,
    );
  };

  const originLine = (lists: string[]) => async () => {
    const problems: string[] = [];
    const shown: string[] = [];
    for (const worker of await configs()) {
      for (const list of lists) {
        for (const p of originProblems(list, worker.vars[list], strict))
          problems.push(`${worker.label} ${list}: ${p}`);
      }
    }
    for (const list of lists) {
      const valuesSeen = [...new Set((await configs()).map((w) => w.vars[list] ?? ""))];
      shown.push(`${list}=${valuesSeen.join(" / ")}`);
    }
    if (problems.length > 0) return fail(problems.join("; "));
    return pass(
      `${shown.join("; ")}${strict ? " (https, no localhost, null or *)" : " — local: localhost origins are expected; staging/production get the strict check"}`,
    );
  };

  const figureLine = (name: string, text: string): Line => ({
    section: "Monitoring and Alerts",
    text,
    sub: true,
    run: async () => {
      const rule = ALERT_RULES.find((r) => r.name === name);
      if (!rule) return fail(`no alert rule ${name}`);
      const notLive = live("the metrics");
      if (notLive) return notLive;
      const m = await metrics();
      if (!(rule.metric in m)) return fail(`/api/ops/metrics has no ${rule.metric}`);
      return pass(
        `${rule.metric}=${m[rule.metric]} in /api/ops/metrics; alert rule ${name} (src/ops/alerts/rules.ts), runbook ${PLAYBOOK}#${ruleGuide(rule).anchor}`,
      );
    },
  });

  const allInOne = async () => (await configs()).find((w) => w.role === "all-in-one");

  const monitorWorkflow = () => {
    const file = target === "staging" ? "backend-monitor-staging.yml" : "backend-monitor.yml";
    return { file, workflow: readWorkflow(file) };
  };

  const LINES: Line[] = [
    // ---------------------------------------------------------------- Security
    {
      section: "Security",
      text: "Rotate `STRIPE_SECRET_KEY` in Stripe Dashboard.",
      run: async () => {
        if (target === "local" && setting("STRIPE_API_BASE"))
          return na("local uses the Stripe emulator (STRIPE_API_BASE): there is no key to rotate");
        return rotation(
          ["STRIPE_SECRET_KEY"],
          `roll the key in the Stripe Dashboard, then pipe it to npm run secrets:rotate -- STRIPE_SECRET_KEY --env ${target}`,
        )();
      },
    },
    {
      section: "Security",
      text: "Rotate `STRIPE_WEBHOOK_SECRET` and update app env.",
      run: rotation(
        ["STRIPE_WEBHOOK_SECRET"],
        `roll the endpoint's signing secret in the Dashboard, then npm run secrets:rotate -- STRIPE_WEBHOOK_SECRET --env ${target} (whsec_new,whsec_old during the overlap)`,
      ),
    },
    {
      section: "Security",
      text: "Rotate `ADMIN_TOKEN`.",
      run: rotation(
        ["ADMIN_TOKEN"],
        `npm run secrets:rotate -- ADMIN_TOKEN --env ${target} --out FILE, update BACKEND_ADMIN_TOKEN, then --promote (docs/OPERATIONS.md#secret-rotation)`,
      ),
    },
    {
      section: "Security",
      text: "(Tollgate) Every Worker's secrets are set and none is a development default.",
      run: async () => {
        const problems = await secretProblems(requiredSecrets());
        if (problems.length > 0) return fail(`${problems.join("; ")} [source: ${source.label}]`);
        const how = source.values
          ? strict
            ? "values checked: none a development default, tokens ≥ 32 characters"
            : "development values are fine locally"
          : target === "production"
            ? "names only; /api/ready refuses development defaults in production (see the ready line)"
            : "names only: pass --secrets-from-env to check the values too";
        return pass(
          `${requiredSecrets().join(", ")} on ${await workersText()}; ${how} [source: ${source.label}]`,
        );
      },
    },
    {
      section: "Security",
      text: "Set `AUTH_ORIGIN_ALLOWLIST` to production origins only.",
      run: originLine(["AUTH_ORIGIN_ALLOWLIST"]),
    },
    {
      section: "Security",
      text: "Set `CORS_ALLOW_ORIGINS` and `PUBLIC_ORIGIN_ALLOWLIST` to production origins only.",
      run: originLine(["CORS_ALLOW_ORIGINS", "PUBLIC_ORIGIN_ALLOWLIST"]),
    },
    {
      section: "Security",
      text: "Set `ALLOW_LOCALHOST_ORIGINS=false` and `ALLOW_NULL_ORIGIN=false` on production.",
      run: async () => {
        const problems: string[] = [];
        for (const worker of await configs()) {
          if (worker.vars.ALLOW_NULL_ORIGIN !== "false")
            problems.push(`${worker.label}: ALLOW_NULL_ORIGIN=${worker.vars.ALLOW_NULL_ORIGIN}`);
          if (strict && worker.vars.ALLOW_LOCALHOST_ORIGINS !== "false")
            problems.push(`${worker.label}: ALLOW_LOCALHOST_ORIGINS=${worker.vars.ALLOW_LOCALHOST_ORIGINS}`);
        }
        if (problems.length > 0) return fail(problems.join("; "));
        return pass(
          strict
            ? `both false on ${(await configs()).map((w) => w.label).join(", ")}`
            : `ALLOW_NULL_ORIGIN=false; local: ALLOW_LOCALHOST_ORIGINS=${(await configs())[0]?.vars.ALLOW_LOCALHOST_ORIGINS} is expected`,
        );
      },
    },
    // ---------------------------------------------------------------- Database and Recovery
    {
      section: "Database and Recovery",
      text: "Run migrations: `python backend/migrate_postgres.py`.",
      run: async () => pass(await migrations()),
    },
    {
      section: "Database and Recovery",
      text: "Create backup: `.\\backup-postgres.ps1`.",
      run: async () => {
        const { name } = await backup();
        return pass(`npm run db:backup: ${name} and its manifest (in a temporary directory, removed after)`);
      },
    },
    {
      section: "Database and Recovery",
      text: "Verify restore on temp DB: `.\\verify-postgres-backup-restore.ps1 -BackupPath <path>`.",
      run: async () => pass(await restore()),
    },
    {
      section: "Database and Recovery",
      text: "Confirm backup retention policy.",
      run: async () =>
        manual(
          "a person confirms it: npm run db:backup -- --prune-only --dry-run --out backups/ lists what daily 7 / weekly 4 / monthly 6 keep; off-site copies (docs/OPERATIONS.md#retention)",
        ),
    },
    // ---------------------------------------------------------------- Stripe
    {
      section: "Stripe",
      text: "Configure production webhook URL to `/api/billing/stripe/webhook`.",
      run: async () => stripeEndpoint(),
    },
    {
      section: "Stripe",
      text: "Subscribe only required events (`checkout.session.completed`).",
      run: async () => {
        const endpoint = await stripeEndpoint();
        if (endpoint.status !== "pass") return endpoint;
        return pass(
          target === "local"
            ? "local: the Worker handles checkout.session.completed, async_payment_succeeded, async_payment_failed and answers every other type 200 ignored"
            : "exactly checkout.session.completed, checkout.session.async_payment_succeeded, checkout.session.async_payment_failed (stripe:webhook --verify)",
        );
      },
    },
    {
      section: "Stripe",
      text: "Run replay/idempotency test (same event twice => single topup).",
      run: async () => {
        if (target === "production")
          return na(
            "staging/local only (it credits an account): npm run go-live -- --target staging; also test/billing/webhook.test.ts",
          );
        const notLive = live("the replay test");
        if (notLive) return notLive;
        const secret = setting("STRIPE_WEBHOOK_SECRET")?.split(",")[0]?.trim();
        if (!secret) return fail("STRIPE_WEBHOOK_SECRET is not available to sign the test event");
        const { apiKey } = await smoke();
        if (!apiKey) return fail("no smoke account API key (see the smoke line)");
        const session = await checkout();
        return pass(
          await checkWebhookReplay({
            base: base as string,
            apiKey,
            webhookSecret: secret,
            session,
          }),
        );
      },
    },
    {
      section: "Stripe",
      text: "Verify checkout session request uses `Idempotency-Key`.",
      run: async () => {
        if (target === "production")
          return na(
            "staging/local only (it creates a Checkout Session): npm run go-live -- --target staging; also test/billing/checkout.test.ts",
          );
        const notLive = live("checkout");
        if (notLive) return notLive;
        const session = await checkout();
        return pass(
          `POST /api/billing/checkout twice with one key: session ${session.id} both times, Idempotent-Replayed: true (Stripe replayed it)`,
        );
      },
    },
    // ---------------------------------------------------------------- Runtime
    {
      section: "Runtime",
      text: "Deploy web process with `MVP_WORKER_ENABLED=false`.",
      run: async () => {
        const web = (await configs()).filter((w) => w.role === "web");
        if (web.length === 0) return na("local runs one all-in-one Worker: no separate web role");
        const problems: string[] = [];
        for (const w of web) {
          if (w.vars.MVP_WORKER_ENABLED !== "false")
            problems.push(`${w.label}: MVP_WORKER_ENABLED=${w.vars.MVP_WORKER_ENABLED}`);
          if (w.consumers.length > 0)
            problems.push(`${w.label} consumes ${w.consumers.map((c) => c.queue).join(", ")}`);
        }
        if (problems.length > 0) return fail(problems.join("; "));
        return pass(
          `${web.map((w) => `${w.label} (${w.name})`).join(", ")}: MVP_WORKER_ENABLED=false, no queue consumers, producer only`,
        );
      },
    },
    {
      section: "Runtime",
      text: "Deploy worker process with `MVP_WORKER_ENABLED=true`.",
      run: async () => {
        const workers = (await configs()).filter(
          (w) => w.role === "worker" || (target === "local" && w.role === "all-in-one"),
        );
        const problems: string[] = [];
        for (const w of workers) {
          if (w.vars.MVP_WORKER_ENABLED !== "true")
            problems.push(`${w.label}: MVP_WORKER_ENABLED=${w.vars.MVP_WORKER_ENABLED}`);
          const env = target;
          const queues = w.consumers.map((c) => c.queue);
          for (const q of [`jobs-${env}`, `jobs-dlq-${env}`])
            if (!queues.includes(q)) problems.push(`${w.label} does not consume ${q}`);
        }
        if (workers.length === 0) problems.push("no worker environment");
        if (problems.length > 0) return fail(problems.join("; "));
        return pass(
          `${workers.map((w) => `${w.label} (${w.name})`).join(", ")}: MVP_WORKER_ENABLED=true, consumes jobs-${target} and jobs-dlq-${target}`,
        );
      },
    },
    {
      section: "Runtime",
      text: "Set `LEGACY_QUEUE_WORKER_ENABLED=false` on both.",
      run: async () => {
        const all = await configs();
        const on = all.filter((w) => w.vars.LEGACY_QUEUE_WORKER_ENABLED !== "false");
        if (on.length > 0)
          return fail(
            on
              .map((w) => `${w.label}: LEGACY_QUEUE_WORKER_ENABLED=${w.vars.LEGACY_QUEUE_WORKER_ENABLED}`)
              .join("; "),
          );
        return pass(`false on ${all.map((w) => w.label).join(", ")}`);
      },
    },
    {
      section: "Runtime",
      text: "(Tollgate) Every queue consumer has a dead-letter queue.",
      run: async () => {
        const all = await configs();
        const consumers = all.flatMap((w) => w.consumers.map((c) => ({ w, c })));
        const missing = consumers.filter(({ c }) => !c.dead_letter_queue);
        if (missing.length > 0)
          return fail(
            missing.map(({ w, c }) => `${w.label}: ${c.queue} has no dead_letter_queue`).join("; "),
          );
        return pass(
          consumers.map(({ w, c }) => `${w.label}: ${c.queue} → ${c.dead_letter_queue}`).join("; "),
        );
      },
    },
    {
      section: "Runtime",
      text: "Verify `/api/ready` is `ok=true`.",
      run: async () => {
        const notLive = live("/api/ready");
        if (notLive) return notLive;
        const answer = await ready();
        const body = answer.body;
        if (answer.status === 200 && body?.ok === true)
          return pass(
            `GET /api/ready: ok=true, ${body.status} (${Object.keys(body.checks ?? {}).join(", ")})`,
          );
        const failing = Object.entries((body?.checks ?? {}) as ReadyBody["checks"])
          .filter(([, c]) => c.status !== "pass")
          .map(
            ([n, c]) =>
              `${n}: ${c.detail}${(c.problems ?? []).map((p) => ` ${p.variable} (${p.rule})`).join(",")}`,
          );
        return fail(
          `GET /api/ready: ${describeAnswer(answer)}${failing.length ? ` — ${failing.join("; ")}` : ""}`,
        );
      },
    },
    {
      section: "Runtime",
      text: "If worker service is unavailable on plan, run fallback all-in-one mode:",
      run: async () => {
        const fallback = await allInOne();
        if (!fallback)
          return na(
            `wrangler.toml has no ${target} all-in-one environment (production-all-in-one is the fallback)`,
          );
        const problems: string[] = [];
        const queues = fallback.consumers.map((c) => c.queue);
        for (const q of [`jobs-${target}`, `jobs-dlq-${target}`])
          if (!queues.includes(q)) problems.push(`does not consume ${q}`);
        if (fallback.consumers.some((c) => !c.dead_letter_queue))
          problems.push("a consumer without a dead-letter queue");
        if (problems.length > 0) return fail(`${fallback.label}: ${problems.join("; ")}`);
        return pass(
          `${fallback.label} (${fallback.name}) consumes ${queues.join(" and ")}, each with a DLQ${
            target === "local"
              ? " — local always runs this way"
              : `: wrangler deploy --env ${fallback.env} (docs/OPERATIONS.md#fallback-all-in-one)`
          }`,
        );
      },
    },
    {
      section: "Runtime",
      text: "web only",
      sub: true,
      run: async () => {
        const fallback = await allInOne();
        if (!fallback) return na("no all-in-one environment for this target");
        if (!fallback.crons.includes("* * * * *"))
          return fail(`${fallback.label} has no every-minute cron (heartbeat, alerts)`);
        return pass(
          `one Worker serves the API and runs the cron (${fallback.crons.join(", ")}) and the consumer; no separate worker Worker`,
        );
      },
    },
    {
      section: "Runtime",
      text: "`MVP_WORKER_ENABLED=true`",
      sub: true,
      run: async () => {
        const fallback = await allInOne();
        if (!fallback) return na("no all-in-one environment for this target");
        return fallback.vars.MVP_WORKER_ENABLED === "true"
          ? pass(
              `${fallback.label}: MVP_WORKER_ENABLED=true, LEGACY_QUEUE_WORKER_ENABLED=${fallback.vars.LEGACY_QUEUE_WORKER_ENABLED}`,
            )
          : fail(`${fallback.label}: MVP_WORKER_ENABLED=${fallback.vars.MVP_WORKER_ENABLED}`);
      },
    },
    {
      section: "Runtime",
      text: "monitor `worker_heartbeat_age_s` from `/api/ops/metrics`",
      sub: true,
      run: async () => {
        if (!(await allInOne())) return na("no all-in-one environment for this target");
        const notLive = live("the metrics");
        if (notLive) return notLive;
        const m = await metrics();
        if (!("worker_heartbeat_age_s" in m)) return fail("/api/ops/metrics has no worker_heartbeat_age_s");
        return pass(
          `worker_heartbeat_age_s=${m.worker_heartbeat_age_s} in /api/ops/metrics; npm run monitor and the worker_heartbeat alert watch it (${PLAYBOOK}#${ANCHORS.heartbeat})`,
        );
      },
    },
    // ---------------------------------------------------------------- Monitoring and Alerts
    {
      section: "Monitoring and Alerts",
      text: "Configure `SENTRY_DSN`.",
      run: async () => {
        if (target === "local")
          return na("local: Sentry is off in development (SENTRY_DSN unset is expected)");
        const problems = await secretProblems(["SENTRY_DSN"]);
        if (problems.length > 0) return fail(`${problems.join("; ")} [source: ${source.label}]`);
        return pass(`SENTRY_DSN set on ${await workersText()} [source: ${source.label}]`);
      },
    },
    {
      section: "Monitoring and Alerts",
      text: "Configure alert checks for:",
      run: async () => {
        const web = (await configs()).find((w) => w.role !== "worker");
        if (!web?.crons.includes("* * * * *"))
          return fail(
            `${web?.label ?? "the web Worker"} has no every-minute cron: alerts are never evaluated`,
          );
        const sink =
          target === "local" ? "" : "; MONITOR_ALERT_WEBHOOK_URL is optional (Sentry gets every alert)";
        return pass(
          `the cron evaluates the rules every minute on ${web.label} (src/ops/alerts/rules.ts)${sink}`,
        );
      },
    },
    figureLine("webhook_failures", "webhook failures per hour"),
    figureLine("failed_jobs", "failed jobs per hour"),
    figureLine("worker_heartbeat", "worker heartbeat age"),
    figureLine("queue_growth", "queue growth"),
    figureLine("dead_letter_growth", "dead-letter growth"),
    {
      section: "Monitoring and Alerts",
      text: "Configure GitHub workflow `Backend Monitor` secrets:",
      run: async () => {
        const { file, workflow } = monitorWorkflow();
        const missing = MONITOR_SECRETS.filter((s) => !workflow.usedSecrets.has(s));
        if (missing.length > 0) return fail(`${file} does not use ${missing.join(", ")}`);
        const notLive = live("monitor");
        if (notLive)
          return notLive.status === "fail"
            ? notLive
            : manual(`${file} uses ${MONITOR_SECRETS.join(", ")}; ${notLive.detail}`);
        const run = await monitor();
        if (!run.ok) return fail(run.detail);
        if (process.env.BACKEND_BASE_URL && process.env.BACKEND_ADMIN_TOKEN)
          return pass(`${run.detail} with BACKEND_BASE_URL and BACKEND_ADMIN_TOKEN from this environment`);
        return manual(
          `${run.detail}; a person sets the secrets in GitHub: gh secret set NAME --env ${target === "local" ? "staging (and production)" : target}`,
        );
      },
    },
    ...MONITOR_SECRETS.map((name) => ({
      section: "Monitoring and Alerts",
      text: `\`${name}\`${name === "MONITOR_ALERT_WEBHOOK_URL" ? " (optional)" : ""}`,
      sub: true,
      run: async () => {
        const { file, workflow } = monitorWorkflow();
        if (!workflow.usedSecrets.has(name)) return fail(`${file} does not use secrets.${name}`);
        const here = process.env[name] ? "; present in this environment" : "";
        return pass(`${file} passes secrets.${name} to npm run monitor${here}`);
      },
    })),
    {
      section: "Monitoring and Alerts",
      text: "Enable and check `Backend Live Smoke` workflow.",
      run: async () => {
        const file = target === "staging" ? "backend-live-smoke-staging.yml" : "backend-live-smoke.yml";
        const workflow = readWorkflow(file);
        if (!workflow.doc?.on?.schedule) return fail(`${file} has no schedule`);
        const notLive = live("smoke");
        if (notLive)
          return notLive.status === "fail" ? notLive : manual(`enable ${file} in GitHub; ${notLive.detail}`);
        const run = await smoke();
        if (!run.ok) return fail(run.detail);
        return manual(
          `${run.detail}; a person enables ${file} (gh workflow enable "${workflow.doc.name}") and checks its first run`,
        );
      },
    },
    {
      section: "Monitoring and Alerts",
      text: "Enable and check `Backend Monitor Staging` + `Backend Live Smoke Staging` before prod cutover.",
      run: async () => {
        const names = ["backend-monitor-staging.yml", "backend-live-smoke-staging.yml"].map(
          (f) => readWorkflow(f).doc.name,
        );
        return manual(
          `workflows present (${names.join(", ")}); a person enables them and checks a green run: gh run list --workflow "${names[0]}"`,
        );
      },
    },
    // ---------------------------------------------------------------- Incident Readiness
    {
      section: "Incident Readiness",
      text: "Validate `.\\incident-triage.ps1` against production URL.",
      run: async () => {
        const notLive = live("triage");
        if (notLive) return notLive;
        const run = await triage();
        return run.ok ? pass(run.detail) : fail(run.detail);
      },
    },
    {
      section: "Incident Readiness",
      text: "Keep `backend/docs/INCIDENT_RESPONSE_PLAYBOOK.md` up to date.",
      run: async () => {
        const path = join(ROOT, PLAYBOOK);
        if (!fileExists(path)) return fail(`${PLAYBOOK} is missing`);
        const anchors = new Set(
          readFileSync(path, "utf8")
            .split("\n")
            .filter((l) => /^#{1,6} /.test(l))
            .map((l) => githubSlug(l.replace(/^#+ /, ""))),
        );
        const needed = playbookAnchors();
        const missing = needed.filter((a) => !anchors.has(a));
        if (missing.length > 0)
          return fail(`${PLAYBOOK} has no section for: ${missing.map((a) => `#${a}`).join(", ")}`);
        return pass(
          `${PLAYBOOK}: a runbook for every alert rule and every problem triage names (${needed.length} sections)`,
        );
      },
    },
    // ---------------------------------------------------------------- Quality Gate
    {
      section: "Quality Gate",
      text: "Run one-shot script: `.\\go-live-all-at-once.ps1 -Target render`.",
      run: async () => pass(`this run: npm run go-live -- --target ${target}`),
    },
    {
      section: "Quality Gate",
      text: "CI passing on branch (`Backend CI`).",
      run: async () => {
        const workflow = readWorkflow("backend-ci.yml");
        if (workflow.doc?.name !== "Backend CI" || !workflow.text.includes("npm test"))
          return fail("backend-ci.yml is not Backend CI running npm test");
        return manual(
          'a person checks the branch is green: gh run list --workflow "Backend CI" --branch <branch> (Backend Deploy\'s preflight runs npm test itself)',
        );
      },
    },
    {
      section: "Quality Gate",
      text: "Manual deploy uses `Backend Deploy` preflight gate.",
      run: async () => {
        const workflow = readWorkflow("backend-deploy.yml");
        const jobs = workflow.doc?.jobs ?? {};
        const preflight = jobs.preflight;
        const steps = JSON.stringify(preflight?.steps ?? []);
        const problems: string[] = [];
        if (workflow.doc?.name !== "Backend Deploy") problems.push("not named Backend Deploy");
        if (!workflow.doc?.on?.workflow_dispatch) problems.push("no workflow_dispatch");
        if (!steps.includes("npm test")) problems.push("preflight does not run npm test");
        if (!steps.includes("npm run go-live")) problems.push("preflight does not run npm run go-live");
        const deployJobs = Object.entries(jobs).filter(([, j]) =>
          JSON.stringify(j).includes("wrangler deploy"),
        );
        if (deployJobs.length === 0) problems.push("no job runs wrangler deploy");
        for (const [name, job] of deployJobs) {
          const needs = [job.needs ?? []].flat();
          if (!needs.includes("preflight")) problems.push(`${name} does not need preflight`);
        }
        if (problems.length > 0) return fail(`backend-deploy.yml: ${problems.join("; ")}`);
        return pass(
          `backend-deploy.yml: preflight (npm test, go-live) gates ${deployJobs.map(([n]) => n).join(", ")}`,
        );
      },
    },
    {
      section: "Quality Gate",
      text: "Run local smoke tests:",
      run: async () => {
        if (skipTests) return skip("--skip-tests: npm test ran them (Backend CI, Backend Deploy preflight)");
        return pass("both below, in workerd against Postgres (vitest --project workers)");
      },
    },
    testLine("`python -m unittest -q backend/mvp_critical_path_test.py`", "test/critical-path.test.ts"),
    testLine(
      "`python -m unittest -q backend/mvp_billing_integrity_test.py`",
      "test/billing-integrity.test.ts",
    ),
    {
      section: "Quality Gate",
      text: "Verify `POST /api/jobs` with same `Idempotency-Key` returns same job id and single hold.",
      run: async () => {
        const notLive = live("POST /api/jobs");
        if (notLive) return notLive;
        const run = await smoke();
        return run.ok
          ? pass(`${run.detail}: same key → same job id, Idempotent-Replayed: true, one hold captured once`)
          : fail(run.detail);
      },
    },
  ];

  function testLine(text: string, file: string): Line {
    return {
      section: "Quality Gate",
      text,
      sub: true,
      run: async () => {
        if (skipTests) return skip(`--skip-tests: ${file} runs in npm test`);
        const result = await vitest();
        const summary = result.summary.find((s) => s.file === file);
        if (summary?.failed !== 0) {
          const tail = result.output.trim().split("\n").slice(-2).join(" / ");
          return fail(`${file}: ${summary?.detail ?? "no result"} (vitest exited ${result.code}: ${tail})`);
        }
        return pass(`${file}: ${summary.detail}`);
      },
    };
  }

  return LINES;
}
