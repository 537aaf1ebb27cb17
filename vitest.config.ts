import { connect } from "node:net";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Whether the tests' Postgres accepts connections. Without it the global setup falls back to one
 * embedded PGlite database shared by every file, so files must then run one at a time.
 */
function postgresListening(
  url = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
) {
  const { hostname, port } = new URL(url);
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 5432), timeout: 2000 });
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

const TEST_BINDINGS = {
  ENVIRONMENT: "local",
  ROLE: "all-in-one",
  ADMIN_TOKEN: "test-admin-token",
  BETTER_AUTH_SECRET: "dev-better-auth-secret-change-me-0123456789",
  STRIPE_WEBHOOK_SECRET: "whsec_tollgate_local_dev",
  MVP_WORKER_ENABLED: "true",
  LEGACY_QUEUE_WORKER_ENABLED: "false",
  // Host variables do not reach workerd; these let a failing randomized run be replayed from its seed.
  LEDGER_MODEL_SEED: process.env.LEDGER_MODEL_SEED ?? "",
  LEDGER_MODEL_STEPS: process.env.LEDGER_MODEL_STEPS ?? "",
  FUZZ_SEED: process.env.FUZZ_SEED ?? "",
  FUZZ_CASES: process.env.FUZZ_CASES ?? "",
  CHAOS_SEED: process.env.CHAOS_SEED ?? "",
  CHAOS_OPERATIONS: process.env.CHAOS_OPERATIONS ?? "",
};

const sharedDatabase = !(await postgresListening());

export default defineConfig({
  test: {
    // Structured request logs are printed only for failing tests, so a CI log shows what matters.
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ...TEST_BINDINGS,
                // Replaced per test file by test/setup/database.ts with the file's own database.
                DATABASE_URL: inject<string>("templateDatabaseUrl"),
                LOCAL_NEON_URL: inject<string>("localNeonUrl"),
                TEST_ADMIN_DATABASE_URL: inject<string>("adminDatabaseUrl"),
                TEST_TEMPLATE_DATABASE: inject<string>("templateDatabase"),
                TEST_RUN_ID: inject<string>("runId"),
                STRIPE_API_BASE: inject<string>("stripeEmulatorUrl"),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/node/**"],
          globalSetup: ["./test/node/global-setup.ts"],
          setupFiles: ["./test/setup/database.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          fileParallelism: !sharedDatabase,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/node/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
