import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const SCRIPT = join(import.meta.dirname, "../../scripts/secrets-rotate.ts");

type Call = { args: string[]; stdin: string };

/**
 * A stand-in `wrangler` first on PATH: it records its arguments and its stdin, one JSON line per call,
 * so the test can see exactly what the real one would have received.
 */
function fakeWrangler(dir: string, log: string, exitCode = 0) {
  const bin = join(dir, "wrangler");
  writeFileSync(
    bin,
    `#!/usr/bin/env node
let stdin = "";
process.stdin.on("data", (c) => (stdin += c));
process.stdin.on("end", () => {
  require("node:fs").appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args: process.argv.slice(2), stdin }) + "\\n");
  process.stdout.write("fake wrangler: ok\\n");
  process.exit(${exitCode});
});
`,
  );
  chmodSync(bin, 0o755);
}

function run(args: string[], options: { dir: string; input?: string }) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], {
    input: options.input ?? "",
    encoding: "utf8",
    env: { ...process.env, PATH: `${options.dir}${delimiter}${process.env.PATH ?? ""}` },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const calls = (log: string): Call[] =>
  existsSync(log)
    ? readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Call)
    : [];

describe("npm run secrets:rotate", () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tollgate-rotate-"));
    log = join(dir, "calls.jsonl");
    fakeWrangler(dir, log);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("--help explains every secret and exits 0", () => {
    const { status, output } = run(["--help"], { dir });
    expect(status).toBe(0);
    for (const name of ["ADMIN_TOKEN", "BETTER_AUTH_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]) {
      expect(output).toContain(name);
    }
  });

  it("--dry-run shows the plan for every Worker of the environment and calls nothing", () => {
    const { status, output } = run(["ADMIN_TOKEN", "--env", "production", "--dry-run"], { dir });
    expect(status).toBe(0);
    expect(output).toContain("wrangler secret put ADMIN_TOKEN_NEXT --env production ");
    expect(output).toContain("wrangler secret put ADMIN_TOKEN_NEXT --env production-worker");
    expect(output).toMatch(/ADMIN_TOKEN_NEXT/);
    expect(output).toMatch(/api\/ready/);
    expect(calls(log)).toEqual([]);
  });

  it("generates ADMIN_TOKEN, sends it to wrangler on stdin only, writes it 0600 and never prints it", () => {
    const out = join(dir, "admin-token");
    const { status, output } = run(["ADMIN_TOKEN", "--env", "staging", "--out", out], { dir });
    expect(status).toBe(0);
    const token = readFileSync(out, "utf8").trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(out).mode & 0o777).toBe(0o600);

    const made = calls(log);
    expect(made.map((c) => c.args)).toEqual([
      ["secret", "put", "ADMIN_TOKEN_NEXT", "--env", "staging"],
      ["secret", "put", "ADMIN_TOKEN_NEXT", "--env", "staging-worker"],
    ]);
    for (const call of made) {
      expect(call.stdin).toBe(token);
      expect(call.args.join(" ")).not.toContain(token);
    }
    expect(output).not.toContain(token);
    expect(output).toContain("--promote");
  });

  it("--promote puts the token from stdin as ADMIN_TOKEN, without echoing it", () => {
    const token = "Zq8Vn3Lw0Rt5Yb1Kc6Jd2Hf7Gs4Ma9Pe0Xu3Wi8Oo1A";
    const { status, output } = run(["ADMIN_TOKEN", "--env", "production", "--promote"], {
      dir,
      input: `${token}\n`,
    });
    expect(status).toBe(0);
    expect(calls(log)).toEqual([
      { args: ["secret", "put", "ADMIN_TOKEN", "--env", "production"], stdin: token },
      { args: ["secret", "put", "ADMIN_TOKEN", "--env", "production-worker"], stdin: token },
    ]);
    expect(output).not.toContain(token);
    expect(output).toContain("secret delete ADMIN_TOKEN_NEXT");
  });

  it("reads a Stripe key from stdin and passes it on stdin, never in arguments or output", () => {
    const key = "sk_live_51TollgateRotationTestKey0123456789";
    const { status, output } = run(["STRIPE_SECRET_KEY", "--env", "production"], { dir, input: `${key}\n` });
    expect(status).toBe(0);
    const made = calls(log);
    expect(made).toHaveLength(2);
    for (const call of made) {
      expect(call.stdin).toBe(key);
      expect(call.args).not.toContain(key);
    }
    expect(output).not.toContain(key);
    expect(output).toMatch(/Stripe Dashboard/);
  });

  it("refuses a value that does not look like the secret, and changes nothing", () => {
    const { status, output } = run(["STRIPE_WEBHOOK_SECRET", "--env", "staging"], {
      dir,
      input: "not-a-secret\n",
    });
    expect(status).not.toBe(0);
    expect(output).not.toContain("not-a-secret");
    expect(calls(log)).toEqual([]);
  });

  it("refuses a missing --env, an unknown name, and ADMIN_TOKEN without --out", () => {
    expect(run(["ADMIN_TOKEN"], { dir }).status).toBe(2);
    expect(run(["DATABASE_PASSWORD", "--env", "staging"], { dir }).status).toBe(2);
    expect(run(["ADMIN_TOKEN", "--env", "staging"], { dir }).status).toBe(2);
    expect(calls(log)).toEqual([]);
  });

  it("a failing wrangler fails the run without printing the value", () => {
    fakeWrangler(dir, log, 1);
    const { status, output } = run(["BETTER_AUTH_SECRET", "--env", "staging"], { dir });
    expect(status).toBe(1);
    const [call] = calls(log);
    expect(call?.stdin).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(output).not.toContain(call?.stdin);
  });
});
