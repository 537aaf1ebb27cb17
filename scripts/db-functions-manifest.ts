#!/usr/bin/env node
// Writes src/db/functions/checksums.json: the SHA-256 of each function file. The Worker cannot read
// the files, so /api/ready compares this manifest with what db:migrate recorded in the database.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { parseCli } from "./lib/args.ts";
import { FUNCTIONS_MANIFEST, formatManifest, functionsManifest } from "./lib/migrations.ts";

const { values } = parseCli({
  usage: `
Usage: node scripts/db-functions-manifest.ts [--check]

Writes src/db/functions/checksums.json from the function files in src/db/functions/ (npm run
db:generate runs it after drizzle-kit). With --check it writes nothing and exits 1 when the manifest
does not match the files.

Options:
  --check      only compare, exit 1 on a difference
  -h, --help   show this help
`,
  options: { check: { type: "boolean" } },
});

const path = relative(process.cwd(), FUNCTIONS_MANIFEST);
const wanted = formatManifest(functionsManifest());
const current = existsSync(FUNCTIONS_MANIFEST) ? readFileSync(FUNCTIONS_MANIFEST, "utf8") : "";

if (current === wanted) {
  console.log(`db:functions-manifest: ${path} is current`);
} else if (values.check) {
  console.error(`db:functions-manifest: ${path} does not match the function files: run npm run db:generate`);
  process.exit(1);
} else {
  writeFileSync(FUNCTIONS_MANIFEST, wanted);
  console.log(`db:functions-manifest: wrote ${path}`);
}
