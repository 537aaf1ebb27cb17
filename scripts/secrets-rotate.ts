#!/usr/bin/env node
// npm run secrets:rotate: put a new value for one secret on every Worker of an environment.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { loadConfig } from "../src/config/index.ts";
import type { Config } from "../src/config/schema.ts";
import { parseCli } from "./lib/args.ts";
import { type Target, WORKERS_BY_TARGET } from "./lib/deployments.ts";

const USAGE = `
Usage: npm run secrets:rotate -- <NAME> --env staging|production [--dry-run] [--out FILE] [--promote]

Puts a new value for one secret with \`wrangler secret put\` on every Worker of the environment (the
web Worker and the queue worker, which read the same config). The value goes to wrangler on stdin:
it never appears on a command line, in this script's output or in shell history.

NAME
  ADMIN_TOKEN            generates 256 random bits and puts them as ADMIN_TOKEN_NEXT, so the old and
                         the new token both work while clients move over; writes the new token to
                         --out FILE (required, created 0600). Then, with the new value on stdin:
                         --promote puts it as ADMIN_TOKEN (see the steps printed).
  BETTER_AUTH_SECRET     generates 256 random bits. Every session ends: users sign in again.
  STRIPE_SECRET_KEY      reads the new key on stdin (roll it in the Stripe Dashboard first).
  STRIPE_WEBHOOK_SECRET  reads the new secret(s) on stdin; "whsec_new,whsec_old" keeps both valid
                         while Stripe still signs with the old one.

Options:
  --env ENV      staging or production
  --dry-run      show what would happen; call nothing, write nothing
  --out FILE     where to write a generated ADMIN_TOKEN (never printed)
  --promote      ADMIN_TOKEN only: make the value on stdin the current ADMIN_TOKEN
  -h, --help     show this help
`;

/** A variable of the Worker's config (src/config/schema.ts): a renamed secret fails the typecheck here. */
type SecretName = keyof Config;

const GENERATED = new Set<SecretName>(["ADMIN_TOKEN", "BETTER_AUTH_SECRET"]);
const FROM_STDIN: Partial<Record<SecretName, (value: string) => boolean>> = {
  STRIPE_SECRET_KEY: (v) => /^(sk|rk)_(live|test)_[A-Za-z0-9]{10,}$/.test(v),
  STRIPE_WEBHOOK_SECRET: (v) => v.split(",").every((s) => /^whsec_[A-Za-z0-9+/=]{10,}$/.test(s.trim())),
};

/** Whether the Worker's config rules (src/config/rules.ts) take this value as a production ADMIN_TOKEN. */
function strongAdminToken(value: string): boolean {
  const { problems } = loadConfig({ ENVIRONMENT: "production", DATABASE_URL: "unused", ADMIN_TOKEN: value });
  return !problems.some(
    (p) => p.variable === "ADMIN_TOKEN" && (p.rule === "strong_admin_token" || p.rule === "schema"),
  );
}

const fail = (message: string, code = 2): never => {
  process.stderr.write(`secrets:rotate: ${message}\n`);
  process.exit(code);
};
const say = (line = "") => process.stdout.write(`${line}\n`);

const { values, positionals } = parseCli({
  usage: USAGE,
  allowPositionals: true,
  options: {
    env: { type: "string" },
    "dry-run": { type: "boolean" },
    out: { type: "string" },
    promote: { type: "boolean" },
  },
});

const rawName = positionals[0];
if (!rawName || positionals.length > 1) fail(`name exactly one secret\n${USAGE}`);
const name = rawName as SecretName;
const dryRun = Boolean(values["dry-run"]);
if (!GENERATED.has(name) && !(name in FROM_STDIN)) fail(`cannot rotate ${name}; see --help`);
const env = values.env;
if (!env || env === "local" || !Object.hasOwn(WORKERS_BY_TARGET, env))
  fail("choose --env staging or --env production (local secrets live in .dev.vars)");
if (values.promote && name !== "ADMIN_TOKEN") fail("--promote applies to ADMIN_TOKEN only");

const readStdin = async (): Promise<string> => {
  if (process.stdin.isTTY)
    fail(`pipe the new ${name} on stdin, e.g. \`pbpaste | npm run secrets:rotate -- ${name} ...\``);
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
};

/** wrangler from PATH (npm run puts node_modules/.bin first), else through npx. */
function wranglerCommand(): { command: string; prefix: string[] } {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, process.platform === "win32" ? "wrangler.cmd" : "wrangler");
    try {
      accessSync(candidate, constants.X_OK);
      return { command: candidate, prefix: [] };
    } catch {}
  }
  return { command: "npx", prefix: ["wrangler"] };
}

/** `wrangler secret put NAME --env ENV`, the value written to its stdin and nowhere else. */
function putSecret(secretName: string, workerEnv: string, value: string): Promise<void> {
  const { command, prefix } = wranglerCommand();
  const args = [...prefix, "secret", "put", secretName, "--env", workerEnv];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["pipe", "inherit", "inherit"],
      shell: process.platform === "win32",
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrangler exited with ${code}`))));
    child.stdin.end(value);
  });
}

// ------------------------------------------------------------------ the value
let value: string | undefined;
let target: SecretName = name;
if (name === "ADMIN_TOKEN" && !values.promote) {
  target = "ADMIN_TOKEN_NEXT";
  if (!dryRun && !values.out)
    fail("ADMIN_TOKEN needs --out FILE: the new token must reach your clients somehow");
}
if (GENERATED.has(name) && !values.promote) {
  value = randomBytes(32).toString("base64url");
} else if (dryRun && process.stdin.isTTY) {
  value = undefined;
} else {
  value = await readStdin();
  const valid = name === "ADMIN_TOKEN" ? strongAdminToken(value) : Boolean(FROM_STDIN[name]?.(value));
  if (!valid) fail(`the value on stdin does not look like a ${name}; nothing was changed`);
}

// ------------------------------------------------------------------ the plan
// Every Worker of the target has its own copy of every secret. The fallback all-in-one Worker is left
// out: it deploys under the web Worker's name, so it already has the web Worker's secrets.
const workers = WORKERS_BY_TARGET[env as Target].filter((w) => !w.fallback).map((w) => w.env as string);
say(
  `secrets:rotate: ${name}${values.promote ? " (promote)" : ""} on ${env}${dryRun ? " — dry run, nothing changes" : ""}`,
);
say(
  GENERATED.has(name) && !values.promote
    ? `  new value: 256 random bits (${value?.length} characters), generated here`
    : `  new value: read from stdin${value ? ` (${value.length} characters)` : ""}`,
);
for (const worker of workers)
  say(`  ${dryRun ? "would run" : "run"}: wrangler secret put ${target} --env ${worker}   (value on stdin)`);
if (name === "ADMIN_TOKEN" && !values.promote)
  say(`  ${dryRun ? "would write" : "write"}: ${values.out ?? "--out FILE"} (mode 0600)`);

if (!dryRun) {
  if (name === "ADMIN_TOKEN" && !values.promote)
    writeFileSync(values.out as string, `${value}\n`, { mode: 0o600, flag: "wx" });
  for (const worker of workers) {
    try {
      await putSecret(target, worker, value as string);
    } catch (error) {
      fail(
        `${(error as Error).message} while putting ${target} on ${worker}; the other Workers may still have the old value`,
        1,
      );
    }
  }
}

// ------------------------------------------------------------------ what next
const base = env === "production" ? "https://<production host>" : "https://<staging host>";
const steps: Partial<Record<SecretName, string[]>> = {
  ADMIN_TOKEN: values.promote
    ? [
        "Both Workers now take the new token as ADMIN_TOKEN (and still as ADMIN_TOKEN_NEXT).",
        `Close the window: npx wrangler secret delete ADMIN_TOKEN_NEXT --env ${workers[0]} (and --env ${workers[1]})`,
        "Delete the token file from --out once every client has it.",
        `Verify: npm run monitor -- --url ${base} and GET ${base}/api/ready → ok:true`,
      ]
    : [
        "The old ADMIN_TOKEN still works; the new one works now too (ADMIN_TOKEN_NEXT).",
        `Verify: GET ${base}/api/ready → ok:true (the config rules check ADMIN_TOKEN_NEXT's strength too).`,
        `Give clients the new token: gh secret set BACKEND_ADMIN_TOKEN < ${values.out ?? "FILE"} (and the Staging twin)`,
        `Check it: curl -H "Authorization: Bearer $(cat ${values.out ?? "FILE"})" ${base}/api/ops/metrics`,
        `Promote it: npm run secrets:rotate -- ADMIN_TOKEN --env ${env} --promote < ${values.out ?? "FILE"}`,
      ],
  BETTER_AUTH_SECRET: [
    "Every session cookie is now invalid: users sign in again. Nothing else changes.",
    `Verify: GET ${base}/api/ready → ok:true, then sign in once.`,
  ],
  STRIPE_SECRET_KEY: [
    "In the Stripe Dashboard (Developers → API keys), expire the old key once this deploy is verified.",
    "Update STRIPE_SECRET_KEY wherever else it lives (CI secrets for reconciliation, if any).",
    `Verify: GET ${base}/api/ready → ok:true, then one checkout in test mode or npm run smoke -- --url ${base}.`,
  ],
  STRIPE_WEBHOOK_SECRET: [
    'If you put "new,old": once Stripe shows the old signing secret expired, run this again with only the new one.',
    "Check the endpoint with npm run stripe:webhook, and send a test event from the Dashboard.",
    `Verify: GET ${base}/api/ready → ok:true and webhook_failures_1h stays 0 in /api/ops/metrics.`,
  ],
};
say("\nNext:");
for (const [i, step] of (steps[name] ?? []).entries()) say(`  ${i + 1}. ${step}`);
say(
  "  Redeploy: none needed. `wrangler secret put` deploys a new version of each Worker at once, and later deploys keep it. During a gradual rollout it refuses: finish the rollout, or use `wrangler versions secret put` + `wrangler versions deploy`.",
);
