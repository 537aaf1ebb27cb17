// Progress lines while an operations command runs, and one pass/fail table at the end.

/** @typedef {"pass" | "fail" | "skip"} Result */
/** @typedef {{ check: string, result: Result, detail: string }} Row */

/** Thrown by `step` after it has recorded and printed the failure, so callers only decide what comes next. */
export class StepFailed extends Error {}

/** @param {string[]} headers @param {string[][]} rows */
export function formatTable(headers, rows) {
  rows = rows.map((r) => r.map((c) => (c ?? "").replace(/\s*\n\s*/g, " / ")));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (/** @type {string[]} */ cells) =>
    `| ${cells.map((c, i) => (c ?? "").padEnd(widths[i])).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** @param {string} prefix the command name, e.g. "db:backup" */
export function createReport(prefix) {
  /** @type {Row[]} */
  const rows = [];
  const log = (/** @type {string} */ line) => process.stdout.write(`${prefix}: ${line}\n`);

  /** @param {string} check @param {Result} result @param {string} [detail] */
  const record = (check, result, detail = "") => {
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
     * @template T
     * @param {string} check
     * @param {() => Promise<T>} fn
     * @param {(value: T) => string | { skip: string }} [describe]
     * @returns {Promise<T>}
     */
    async step(check, fn, describe = (v) => (typeof v === "string" ? v : "")) {
      log(`${check} ...`);
      let value;
      try {
        value = await fn();
      } catch (error) {
        record(check, "fail", /** @type {Error} */ (error).message);
        throw new StepFailed(/** @type {Error} */ (error).message, { cause: error });
      }
      const detail = describe(value);
      if (typeof detail === "object") record(check, "skip", detail.skip);
      else record(check, "pass", detail);
      return value;
    },
    failed: () => rows.some((r) => r.result === "fail"),
    /** Prints the table and the verdict; returns the exit code (0 all passed, 1 otherwise). */
    finish() {
      const failed = rows.some((r) => r.result === "fail");
      process.stdout.write(
        `\n${formatTable(
          ["check", "result", "detail"],
          rows.map((r) => [r.check, r.result.toUpperCase(), r.detail]),
        )}\n\n${prefix}: ${failed ? "FAILED" : "OK"}\n`,
      );
      return failed ? 1 : 0;
    },
  };
}
