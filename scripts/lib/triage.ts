// npm run triage's checks as a function (go-live runs them too): health, ready and the metrics against
// their thresholds, each finding with its severity, likely cause and runbook. Reads only.
import {
  checkHealth,
  checkMetrics,
  checkReady,
  exitCodeFor,
  type Finding,
  type JsonObject,
} from "./checks.ts";

export type TriageOptions = {
  base: string;
  /** The admin token for /api/ops/*; without one the metrics are skipped. */
  token?: string;
  /** Progress lines; nothing is printed without it. */
  log?: (line: string) => void;
};

const VERDICTS = ["OK", "WARNING", "CRITICAL"] as const;
export type TriageVerdict = (typeof VERDICTS)[number];

export type TriageResult = {
  findings: Finding[];
  /** 0 everything ok, 1 a warning, 2 anything critical. */
  exitCode: 0 | 1 | 2;
  verdict: TriageVerdict;
  metrics: JsonObject | null;
};

export async function runTriage({ base, token, log = () => {} }: TriageOptions): Promise<TriageResult> {
  log(`${base}${token ? " (with admin token)" : " (no admin token: metrics skipped)"}`);
  log("GET /api/health ...");
  const health = await checkHealth(base);
  log(`  ${health.severity}: ${health.detail}`);
  log("GET /api/ready ...");
  const ready = await checkReady(base);
  for (const f of ready.findings) log(`  ${f.check} ${f.severity}: ${f.detail}`);
  log("GET /api/ops/metrics ...");
  const metrics = await checkMetrics(base, token);
  for (const f of metrics.findings) log(`  ${f.check} ${f.severity}: ${f.detail}`);
  if (metrics.metrics) {
    const m = metrics.metrics;
    const byStatus = Object.entries((m.jobs_by_status as Record<string, number> | null) ?? {})
      .map(([status, n]) => `${status} ${n}`)
      .join(", ");
    log(`  queue depth ${m.queue_depth}, dead letters ${m.dead_letter_total}; jobs: ${byStatus}`);
  }
  const findings = [health, ...ready.findings, ...metrics.findings];
  const exitCode = exitCodeFor(findings);
  return { findings, exitCode, verdict: VERDICTS[exitCode], metrics: metrics.metrics };
}

/** A finding with a cause, in one line: `[WARN] dead_letter_growth: Jobs exhausted ...`. */
export function describeProblem(finding: Finding): string {
  return `[${finding.severity.toUpperCase()}] ${finding.check}: ${finding.cause}`;
}
