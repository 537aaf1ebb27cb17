// Tiny wrapper over node:util parseArgs so every script gets --help and clear errors the same way.
import { parseArgs } from "node:util";

/**
 * @param {{ usage: string, options: import("node:util").ParseArgsConfig["options"], allowPositionals?: boolean }} spec
 */
export function parseCli(spec, argv = process.argv.slice(2)) {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h" }, ...spec.options },
      allowPositionals: spec.allowPositionals ?? false,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`${spec.usage.trim()}\n`);
      process.exit(0);
    }
    return { values, positionals };
  } catch (error) {
    process.stderr.write(`${/** @type {Error} */ (error).message}\n\n${spec.usage.trim()}\n`);
    process.exit(2);
  }
}
