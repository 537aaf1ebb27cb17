// Tiny wrapper over node:util parseArgs so every script gets --help and clear errors the same way.
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type WithHelp<O extends Options> = O & { help: { type: "boolean"; short: "h" } };
/** What parseArgs answers for these options in strict mode. */
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ options: WithHelp<O>; strict: true; allowPositionals: true }>
>;

export function parseCli<O extends Options>(
  spec: { usage: string; options: O; allowPositionals?: boolean },
  argv: string[] = process.argv.slice(2),
): Parsed<O> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h" }, ...spec.options },
      allowPositionals: spec.allowPositionals ?? false,
      strict: true,
    }) as Parsed<O>;
    if ((values as { help?: boolean }).help) {
      process.stdout.write(`${spec.usage.trim()}\n`);
      process.exit(0);
    }
    return { values, positionals };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${spec.usage.trim()}\n`);
    process.exit(2);
  }
}
