// The Workers each target deploys: the wrangler.toml environments, by role. The operations commands
// (go-live, secrets:rotate) read this list; test/node/wrangler-config.test.ts checks it against
// wrangler.toml.

export type Target = "local" | "staging" | "production";

export type WorkerSpec = {
  /** The wrangler environment (`--env`); undefined is the top level (local). */
  env: string | undefined;
  label: string;
  role: "web" | "worker" | "all-in-one";
  /** Deployed only where a separate consumer Worker is not possible (docs/ARCHITECTURE.md). */
  fallback?: boolean;
};

export const WORKERS_BY_TARGET: Record<Target, WorkerSpec[]> = {
  local: [{ env: undefined, label: "local", role: "all-in-one" }],
  staging: [
    { env: "staging", label: "staging", role: "web" },
    { env: "staging-worker", label: "staging-worker", role: "worker" },
  ],
  production: [
    { env: "production", label: "production", role: "web" },
    { env: "production-worker", label: "production-worker", role: "worker" },
    { env: "production-all-in-one", label: "production-all-in-one", role: "all-in-one", fallback: true },
  ],
};
