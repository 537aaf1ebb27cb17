import { logEvent } from "./log.ts";
import { tagInvocation } from "./sentry.ts";
import { countingStatements, installStatementCounter } from "./statement-counter.ts";

/** `fetch` takes any Request, so tests and service bindings can call the export directly. */
type WorkerHandler = {
  fetch: (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;
  queue: ExportedHandlerQueueHandler<Env>;
  scheduled: ExportedHandlerScheduledHandler<Env>;
};

/** Queue batches and cron ticks have no request id; they get an invocation id of the same shape. */
export function newInvocationId(kind: "queue" | "cron") {
  return `${kind}_${crypto.randomUUID().replaceAll("-", "")}`;
}

async function logged(event: string, env: Env, fields: Record<string, unknown>, run: () => Promise<void>) {
  const requestId = newInvocationId(event.startsWith("queue") ? "queue" : "cron");
  tagInvocation(env, requestId);
  const started = Date.now();
  const { count, done } = countingStatements(run);
  let outcome = "ok";
  try {
    await done;
  } catch (error) {
    outcome = "error";
    throw error;
  } finally {
    logEvent(event, {
      request_id: requestId,
      ...fields,
      outcome,
      duration_ms: Date.now() - started,
      db_statements: count.statements,
      db_round_trips: count.roundTrips,
    });
  }
}

/**
 * One JSON line per queue batch (`queue.batch`) and per cron invocation (`cron.invocation`), with
 * an invocation id that Sentry events of the same invocation carry too. Message bodies are never
 * logged: only the queue, the message count, the outcome, the duration and the statements.
 */
export function withInvocationLog(handler: WorkerHandler): WorkerHandler {
  installStatementCounter();
  return {
    fetch: handler.fetch,
    queue: (batch, env, ctx) =>
      logged("queue.batch", env, { queue: batch.queue, messages: batch.messages.length }, () =>
        Promise.resolve(handler.queue(batch, env, ctx)),
      ),
    scheduled: (controller, env, ctx) =>
      logged("cron.invocation", env, { cron: controller.cron }, () =>
        Promise.resolve(handler.scheduled(controller, env, ctx)),
      ),
  };
}
