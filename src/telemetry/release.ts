import pkg from "../../package.json" with { type: "json" };
import type { Config } from "../config/index.ts";

/** `CF_VERSION_METADATA`, when the Worker has a version metadata binding. */
type VersionMetadata = { id?: unknown; tag?: unknown };

function versionId(env: object): string | undefined {
  const metadata = (env as { CF_VERSION_METADATA?: VersionMetadata }).CF_VERSION_METADATA;
  return typeof metadata?.id === "string" && metadata.id.length > 0 ? metadata.id : undefined;
}

/**
 * The release Sentry events and heartbeats name: SENTRY_RELEASE when set (CI can pass the commit), else
 * the Worker version id when a version metadata binding exists, else the package version.
 */
export function releaseName(env: object): string {
  const explicit = (env as { SENTRY_RELEASE?: unknown }).SENTRY_RELEASE;
  if (typeof explicit === "string" && explicit.trim().length > 0) return explicit.trim();
  const version = versionId(env);
  return version ? `tollgate@${version}` : `tollgate@${pkg.version}`;
}

/** Which deployment sent a heartbeat: environment, role and release, e.g. `production/web/tollgate@0.1.0`. */
export function deploymentName(env: object, config: Pick<Config, "ENVIRONMENT" | "ROLE">): string {
  return `${config.ENVIRONMENT}/${config.ROLE}/${releaseName(env)}`.slice(0, 200);
}
