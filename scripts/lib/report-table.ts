// Progress lines while an operations command runs, and one pass/fail table at the end.

export type Result = "pass" | "fail" | "skip";
export type Row = { check: string; result: Result; detail: string };

/** Thrown by `step` after it has recorded and printed the failure, so callers only decide what comes next. */
export class StepFailed extends Error {}

export function formatTable(headers: string[], rawRows: (string | undefined)[][]): string {
  const rows = rawRows.map((r) => r.map((c) => (c ?? "").replace(/\s*\n\s*/g, " / ")));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/**
 * `prefix`: the command name, e.g. "db:backup". Progress lines go to `log` (without the prefix) when
 * given, else to stdout after "<prefix>: ", so a command's steps can run inside another command quietly.
 */
export function createReport(prefix: string, options: { log?: (line: string) => void } = {}) {
  const rows: Row[] = [];
  const log = options.log ?? ((line: string) => process.stdout.write(`${prefix}: ${line}\n`));

  const record = (check: string, result: Result, detail = "") => {
    rows.push({ check, result, detail });
    log(`  ${result === "fail" ? "FAIL" : result}${detail ? `: ${detail}` : ""}`);
  };

  return {
    rows,
    log,
    record,
    /**
     * Prints the step, runs it and records pass with the detail it returns (a `{ skip }` object records
     * skip), or fail with the error's message, then throws StepFailed.
     */
    async step<T>(
      check: string,
      fn: () => Promise<T>,
      describe: (value: T) => string | { skip: string } = (v) => (typeof v === "string" ? v : ""),
    ): Promise<T> {
      log(`${check} ...`);
      let value: T;
      try {
        value = await fn();
      } catch (error) {
        record(check, "fail", (error as Error).message);
        throw new StepFailed((error as Error).message, { cause: error });
      }
      const detail = describe(value);
      if (typeof detail === "object") record(check, "skip", detail.skip);
      else record(check, "pass", detail);
      return value;
    },
    failed: () => rows.some((r) => r.result === "fail"),
    /** Prints the table and the verdict; returns the exit code (0 all passed, 1 otherwise). */
    finish: () => finishReport(prefix, rows),
  };
}

/** Prints the table of rows and the verdict; returns the exit code (0 all passed, 1 otherwise). */
export function finishReport(prefix: string, rows: readonly Row[]): number {
  const failed = rows.some((r) => r.result === "fail");
  process.stdout.write(
    `\n${formatTable(
      ["check", "result", "detail"],
      rows.map((r) => [r.check, r.result.toUpperCase(), r.detail]),
    )}\n\n${prefix}: ${failed ? "FAILED" : "OK"}\n`,
  );
  return failed ? 1 : 0;
}
