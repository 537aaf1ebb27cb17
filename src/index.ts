import { createApp } from "./app.ts";
import { loadConfig } from "./config/index.ts";
import { runScheduled } from "./cron/index.ts";
import { runQueue } from "./queue/index.ts";
import { createServices } from "./services.ts";
import { withInvocationLog } from "./telemetry/invocations.ts";
import { logEvent } from "./telemetry/log.ts";
import { withTelemetry } from "./telemetry/sentry.ts";

const app = createApp();

/**
 * The Worker: HTTP API, queue consumer and cron in one bundle; wrangler environments pick the role
 * (docs/ARCHITECTURE.md, Deployment roles). Each entry point parses the config once, fails closed
 * when it is invalid, and hands the services it built to everything it runs. Every invocation is
 * logged (one line per request, queue batch and cron tick) and, with SENTRY_DSN, reported to Sentry.
 */
export default withTelemetry(
  withInvocationLog({
    fetch: app.fetch,

    async queue(batch, env, _ctx) {
      const result = loadConfig(env);
      if (!result.ok) {
        // Fail closed without losing work: the messages come back once the config is fixed.
        logEvent("queue.config_invalid", {
          queue: batch.queue,
          problems: result.problems.map((p) => p.rule),
        });
        batch.retryAll({ delaySeconds: 60 });
        return;
      }
      await runQueue(batch, createServices(env, result.config));
    },

    async scheduled(controller, env, _ctx) {
      const result = loadConfig(env);
      if (!result.ok) {
        logEvent("cron.config_invalid", {
          cron: controller.cron,
          problems: result.problems.map((p) => p.rule),
        });
        throw new Error("config invalid: see /api/ready");
      }
      await runScheduled(controller, createServices(env, result.config));
    },
  } satisfies ExportedHandler<Env>),
) satisfies ExportedHandler<Env>;
