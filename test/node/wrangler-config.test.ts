import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { CRON_LIST } from "../../src/cron/crons.ts";

const read = (env?: string) => unstable_readConfig({ config: "wrangler.toml", env }, { hideWarnings: true });

const WEB = ["staging", "production"];
const WORKER = ["staging-worker", "production-worker"];
const ALL_IN_ONE = [undefined, "production-all-in-one"];
const ALL = [...WEB, ...WORKER, ...ALL_IN_ONE];

const envOf = (name: string | undefined) =>
  name === undefined ? "local" : name.replace(/-worker$|-all-in-one$/, "");

describe("wrangler.toml", () => {
  it.each(ALL)("%s: nodejs_compat, smart placement, observability", (name) => {
    const config = read(name);
    expect(config.compatibility_flags).toContain("nodejs_compat");
    expect(config.placement?.mode).toBe("smart");
    expect(config.observability?.enabled).toBe(true);
  });

  it.each([...WEB, ...ALL_IN_ONE])("%s: the cron triggers equal the CRONS constant", (name) => {
    expect(read(name).triggers.crons).toEqual(CRON_LIST);
  });

  it.each(WORKER)("%s: the worker role has no cron (the web role runs it)", (name) => {
    expect(read(name).triggers.crons ?? []).toEqual([]);
  });

  it.each(ALL)("%s: every consumer has a dead-letter queue; queue names carry the environment", (name) => {
    const config = read(name);
    const env = envOf(name);
    expect(config.queues.producers?.map((p: { queue: string }) => p.queue)).toEqual([`jobs-${env}`]);
    for (const consumer of config.queues.consumers ?? []) {
      expect(consumer.dead_letter_queue, consumer.queue).toBeTruthy();
      expect(consumer.queue.endsWith(`-${env}`)).toBe(true);
      expect(consumer.dead_letter_queue?.endsWith(`-${env}`)).toBe(true);
    }
  });

  it.each(WEB)("%s: web role consumes nothing and has MVP_WORKER_ENABLED=false", (name) => {
    const config = read(name);
    expect(config.queues.consumers ?? []).toEqual([]);
    expect(config.vars.MVP_WORKER_ENABLED).toBe("false");
    expect(config.vars.ROLE).toBe("web");
  });

  it.each([...WORKER, ...ALL_IN_ONE])("%s: consumer roles consume the jobs queue and its DLQ", (name) => {
    const config = read(name);
    const env = envOf(name);
    expect(config.vars.MVP_WORKER_ENABLED).toBe("true");
    expect(config.queues.consumers?.map((c: { queue: string }) => c.queue)).toEqual([
      `jobs-${env}`,
      `jobs-dlq-${env}`,
    ]);
  });

  it.each(ALL)("%s: the legacy polling worker is off", (name) => {
    expect(read(name).vars.LEGACY_QUEUE_WORKER_ENABLED).toBe("false");
  });

  it.each(["staging", "staging-worker", "production", "production-worker", "production-all-in-one"])(
    "%s: no localhost or null origins outside local",
    (name) => {
      const vars = read(name).vars as Record<string, string>;
      expect(vars.ALLOW_LOCALHOST_ORIGINS).toBe("false");
      expect(vars.ALLOW_NULL_ORIGIN).toBe("false");
      for (const key of ["AUTH_ORIGIN_ALLOWLIST", "CORS_ALLOW_ORIGINS", "PUBLIC_ORIGIN_ALLOWLIST"]) {
        for (const origin of (vars[key] ?? "").split(","))
          expect(origin.startsWith("https://"), key).toBe(true);
      }
    },
  );
});
