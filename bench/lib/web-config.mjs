// A copy of wrangler.toml's top-level (local) environment without its queue consumers: the shape of the
// production web role (a queue producer only). The HTTP phase runs on it so that no consumer touches
// the database while statements per request are being counted, and none competes for the CPU.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./stack.mjs";

/** @param {string} source wrangler.toml's text */
export function withoutQueueConsumers(source) {
  const lines = source.split("\n");
  const out = [];
  let skipping = false;
  for (const line of lines) {
    const table = /^\s*\[/.test(line);
    if (table) skipping = /^\s*\[\[queues\.consumers\]\]/.test(line);
    if (!skipping) out.push(line);
  }
  return out.join("\n");
}

/** Writes the web-role config into `dir` and returns its path. */
export function writeWebConfig(/** @type {string} */ dir) {
  const file = join(dir, "wrangler.web.toml");
  const source = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  // main is overridden by the bundle passed on the command line; the rest must resolve as in the repo.
  writeFileSync(file, withoutQueueConsumers(source));
  return file;
}
