// What the Worker's own log lines say (src/middleware/request-log.ts, src/telemetry/invocations.ts):
// requests by route and status with the statements each cost, and queue batches. A second,
// client-side statement count next to the local Neon server's.
import { queueRole } from "../../src/queue/roles.ts";

type Counted = { count: number; statements: number };
type Batches = { batches: number; messages: number; statements: number };

export type LogTally = ReturnType<typeof createLogTally>;

export function createLogTally() {
  const requests = new Map<string, Counted>();
  /** Worker-side durations (ms, from the request's first middleware to its response) by route. */
  const durations = new Map<string, number[]>();
  const batches = {
    jobs: { batches: 0, messages: 0, statements: 0 } as Batches,
    other: { batches: 0, messages: 0, statements: 0 } as Batches,
  };
  return {
    add(line: string) {
      const start = line.indexOf('{"event":');
      if (start < 0) return;
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line.slice(start));
      } catch {
        return;
      }
      if (event.event === "http.request") {
        const key = `${event.method} ${event.route} ${event.status}`;
        const entry = requests.get(key) ?? { count: 0, statements: 0 };
        entry.count += 1;
        entry.statements += Number(event.db_statements ?? 0);
        requests.set(key, entry);
        const route = `${event.method} ${event.route}`;
        const list = durations.get(route) ?? [];
        list.push(Number(event.duration_ms ?? 0));
        durations.set(route, list);
      } else if (event.event === "queue.batch") {
        const target = queueRole(String(event.queue)) === "jobs" ? batches.jobs : batches.other;
        target.batches += 1;
        target.messages += Number(event.messages ?? 0);
        target.statements += Number(event.db_statements ?? 0);
      }
    },
    /** How many durations `route` has so far, to slice one stretch of traffic out later. */
    durationCount(route: string) {
      return durations.get(route)?.length ?? 0;
    },
    durationsSince(route: string, from: number) {
      return (durations.get(route) ?? []).slice(from);
    },
    snapshot() {
      return {
        requests: Object.fromEntries([...requests].map(([k, v]) => [k, { ...v }])),
        batches: { jobs: { ...batches.jobs }, other: { ...batches.other } },
      };
    },
  };
}
