#!/usr/bin/env node
import { startLocalNeon } from "../local-neon/server.ts";
// The local Neon server in a process of its own, started by the stack launcher (scripts/lib/stack.ts)
// when the load generator shares this machine: autocannon and the SQL proxy then do not share one
// event loop and slow each other down unevenly. Prints {"url": ...} on its first line.
import { parseCli } from "./args.ts";

const { values } = parseCli({
  usage: `
Usage: node scripts/lib/neon-process.ts [--port <n>]

The local Neon server (scripts/local-neon/server.ts) for the stack launcher: prints {"url": "..."} on
its first line, then serves until SIGINT/SIGTERM or until its standard input closes (the process that
started it has gone).

Options:
  --port <n>   port to listen on (default 0: a free one)
`,
  options: { port: { type: "string", default: "0" } },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`neon-process: invalid --port ${values.port}\n`);
  process.exit(2);
}

const neon = await startLocalNeon({ port });
process.stdout.write(`${JSON.stringify({ url: neon.url })}\n`);

const stop = async () => {
  await neon.close().catch(() => {});
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
// The launcher holds our stdin open; a crashed launcher must not leave this server behind.
process.stdin.on("end", stop);
process.stdin.resume();
