// The local Neon server in a process of its own, so the load generator (autocannon, in the bench's
// process) and the SQL proxy do not share one event loop and slow each other down unevenly.
import { startLocalNeon } from "../../scripts/local-neon/server.ts";

const neon = await startLocalNeon({ port: 0 });
process.stdout.write(`${JSON.stringify({ url: neon.url })}\n`);

const stop = async () => {
  await neon.close().catch(() => {});
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
// The bench closes stdin when it ends; a crashed bench must not leave this server behind.
process.stdin.on("end", stop);
process.stdin.resume();
