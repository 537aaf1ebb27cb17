import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "../..");
const DIR = join(ROOT, ".github/workflows");
const SCRIPTS = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts,
);

type Step = {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
};
type Job = { needs?: string | string[]; environment?: string; steps: Step[]; env?: Record<string, string> };
type Triggers = {
  workflow_dispatch?: { inputs?: Record<string, { options?: string[] }> };
  schedule?: { cron: string }[];
  push?: unknown;
};
type Workflow = { name: string; on: Triggers; jobs: Record<string, Job> };

const FILES = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const workflows = Object.fromEntries(
  FILES.map((file) => {
    const text = readFileSync(join(DIR, file), "utf8");
    return [file, { text, doc: parse(text) as Workflow }];
  }),
);
const byName = (name: string) => {
  const found = Object.values(workflows).find((w) => w.doc.name === name);
  if (!found) throw new Error(`no workflow named ${name}`);
  return found;
};
const secretsOf = (text: string) => new Set([...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]));
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);

/** The checklist's names (docs/GO_LIVE_CHECKLIST.md) plus what a deploy needs besides. */
const MONITOR_SECRETS = ["BACKEND_ADMIN_TOKEN", "BACKEND_BASE_URL", "MONITOR_ALERT_WEBHOOK_URL"];
const SMOKE_SECRETS = [
  "BACKEND_ADMIN_TOKEN",
  "BACKEND_BASE_URL",
  "MONITOR_ALERT_WEBHOOK_URL",
  "SMOKE_API_KEY",
];
const DEPLOY_SECRETS = [
  ...MONITOR_SECRETS,
  "CLOUDFLARE_ACCOUNT_ID",
  "CLOUDFLARE_API_TOKEN",
  "DATABASE_URL",
  "SMOKE_API_KEY",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
].sort();

describe(".github/workflows", () => {
  it("has exactly the six backend workflows, by name", () => {
    expect(
      Object.values(workflows)
        .map((w) => w.doc.name)
        .sort(),
    ).toEqual([
      "Backend CI",
      "Backend Deploy",
      "Backend Live Smoke",
      "Backend Live Smoke Staging",
      "Backend Monitor",
      "Backend Monitor Staging",
    ]);
    expect(workflows["backend-ci.yml"]?.doc.name).toBe("Backend CI");
  });

  it("every setup-node takes Node from .nvmrc", () => {
    for (const [file, { doc }] of Object.entries(workflows)) {
      for (const step of steps(doc).filter((s) => s.uses?.startsWith("actions/setup-node"))) {
        expect(step.with?.["node-version-file"], file).toBe(".nvmrc");
      }
    }
  });

  it("every npm run they call is a script in package.json", () => {
    for (const [file, { doc }] of Object.entries(workflows)) {
      for (const step of steps(doc)) {
        for (const match of (step.run ?? "").matchAll(/npm run ([\w:-]+)/g)) {
          expect(SCRIPTS, `${file}: npm run ${match[1]}`).toContain(match[1]);
        }
      }
    }
  });

  it("no run script interpolates an expression (inputs and secrets reach scripts through env only)", () => {
    for (const [file, { doc }] of Object.entries(workflows)) {
      for (const step of steps(doc)) expect(step.run ?? "", `${file}: ${step.name}`).not.toContain("${{");
    }
  });

  it("Backend Deploy: manual only, staging|production, and a preflight gate before wrangler deploys both Workers", () => {
    const { doc, text } = byName("Backend Deploy");
    expect(Object.keys(doc.on)).toEqual(["workflow_dispatch"]);
    expect(doc.on.workflow_dispatch?.inputs?.environment?.options).toEqual(["staging", "production"]);
    const preflight = doc.jobs.preflight;
    const deploy = doc.jobs.deploy;
    if (!preflight || !deploy) throw new Error("preflight and deploy jobs expected");
    const preflightRuns = preflight.steps.map((s) => s.run ?? "");
    const testAt = preflightRuns.findIndex((r) => r.trim() === "npm test");
    const goLiveAt = preflightRuns.findIndex((r) => r.includes(`npm run go-live -- "\${args[@]}"`));
    expect(testAt).toBeGreaterThanOrEqual(0);
    expect(goLiveAt).toBeGreaterThan(testAt);
    expect(preflightRuns[goLiveAt]).toContain('--target "$TARGET"');
    expect([deploy.needs].flat()).toEqual(["preflight"]);
    for (const job of [preflight, deploy]) expect(job.environment).toBe(`\${{ inputs.environment }}`);
    const deployRuns = deploy.steps.map((s) => s.run ?? "");
    const worker = deployRuns.findIndex((r) => r.includes('wrangler deploy --env "$TARGET-worker"'));
    const web = deployRuns.findIndex((r) => r.includes('wrangler deploy --env "$TARGET"'));
    const smoke = deployRuns.findIndex((r) => r.trim() === "npm run smoke");
    expect(worker).toBeGreaterThanOrEqual(0);
    expect(web).toBeGreaterThan(worker);
    expect(smoke).toBeGreaterThan(web);
    expect([...secretsOf(text)].sort()).toEqual(DEPLOY_SECRETS);
    expect(text).not.toMatch(/wrangler deploy[^\n]*--env production\b/);
  });

  it.each([
    ["Backend Monitor", "production"],
    ["Backend Monitor Staging", "staging"],
  ])(
    "%s: scheduled and dispatchable, runs npm run monitor with exactly the checklist's secrets (%s)",
    (name, env) => {
      const { doc, text } = byName(name);
      expect(doc.on.schedule?.[0]?.cron).toMatch(/\/10 \* \* \* \*$/);
      expect(doc.on).toHaveProperty("workflow_dispatch");
      expect([...secretsOf(text)].sort()).toEqual(MONITOR_SECRETS);
      const job = Object.values(doc.jobs)[0];
      expect(job?.environment).toBe(env);
      expect(job?.steps.some((s) => s.run === "npm run monitor")).toBe(true);
    },
  );

  it.each([
    ["Backend Live Smoke", "production"],
    ["Backend Live Smoke Staging", "staging"],
  ])("%s: scheduled and dispatchable, runs npm run smoke (%s)", (name, env) => {
    const { doc, text } = byName(name);
    expect(doc.on.schedule?.[0]?.cron).toBeTruthy();
    expect(doc.on).toHaveProperty("workflow_dispatch");
    expect([...secretsOf(text)].sort()).toEqual(SMOKE_SECRETS);
    const job = Object.values(doc.jobs)[0];
    expect(job?.environment).toBe(env);
    expect(job?.steps.some((s) => s.run === "npm run smoke")).toBe(true);
  });

  it("every secret a workflow uses is documented for operators", () => {
    const docs = readFileSync(join(ROOT, "docs/OPERATIONS.md"), "utf8");
    for (const { text } of Object.values(workflows)) {
      for (const name of secretsOf(text)) expect(docs, name).toContain(`\`${name}\``);
    }
  });
});
