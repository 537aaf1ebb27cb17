// The Worker bundle the bench serves and weighs.
import { type SpawnOptions, spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT, WRANGLER_BIN } from "../../scripts/lib/stack.ts";

export type Bundle = {
  file: string;
  bytes: number;
  gzipBytes: number;
  wranglerReported: { kib: number; gzipKib: number } | null;
};

/**
 * `wrangler deploy --dry-run --outdir`: the bundle as it would be uploaded. The bench also serves this
 * very file, so a colleague saving a source file mid-run cannot reload the Worker under measurement.
 */
export async function buildBundle(outdir: string): Promise<Bundle> {
  mkdirSync(outdir, { recursive: true });
  const output = await run(process.execPath, [WRANGLER_BIN, "deploy", "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
  });
  const file = join(outdir, "index.js");
  const bytes = readFileSync(file);
  const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  return {
    file,
    bytes: statSync(file).size,
    gzipBytes: gzipSync(bytes).length,
    wranglerReported: reported ? { kib: Number(reported[1]), gzipKib: Number(reported[2]) } : null,
  };
}

/** Resolves with stdout and stderr together. */
function run(command: string, args: string[], options: SpawnOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...options,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    });
    let output = "";
    child.stdout?.on("data", (d) => {
      output += d;
    });
    child.stderr?.on("data", (d) => {
      output += d;
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${args.slice(1, 3).join(" ")} exited ${code}:\n${output}`)),
    );
  });
}
