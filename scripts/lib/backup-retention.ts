// Grandfather-father-son retention for the backups in one directory, decided by each manifest's time.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MANIFEST_SUFFIX, readManifest } from "./backup.ts";

export type RetentionPolicy = { daily: number; weekly: number; monthly: number };
export type Backup = { name: string; database: string; time: Date; manifestPath: string; dumpPath: string };
export type RetentionPlan = { keep: { backup: Backup; reasons: string[] }[]; remove: Backup[] };
export type PruneResult = { kept: number; removed: string[]; warnings: string[] };

export const DEFAULT_POLICY: Readonly<RetentionPolicy> = Object.freeze({ daily: 7, weekly: 4, monthly: 6 });

const day = (t: Date) => t.toISOString().slice(0, 10);
const month = (t: Date) => t.toISOString().slice(0, 7);

/** ISO 8601 week of a UTC time, e.g. "2026-W01" (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(t: Date): string {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/**
 * Which backups to keep: the newest of each of the `daily` most recent UTC days that have a backup, of
 * each of the `weekly` most recent ISO weeks, of each of the `monthly` most recent months. The rules are
 * independent (one backup can satisfy several). The newest backup and those in `protect` (the backup
 * just made) always stay. `backups`: all of one database.
 */
export function planRetention(
  backups: Backup[],
  policy: RetentionPolicy,
  protect: Set<string> = new Set(),
): RetentionPlan {
  const sorted = [...backups].sort(
    (a, b) => b.time.getTime() - a.time.getTime() || (a.name < b.name ? 1 : -1),
  );
  const reasons = new Map<string, string[]>(sorted.map((b) => [b.name, []]));
  const rules: [string, number, (t: Date) => string][] = [
    ["daily", policy.daily, day],
    ["weekly", policy.weekly, isoWeek],
    ["monthly", policy.monthly, month],
  ];
  for (const [rule, count, period] of rules) {
    const seen = new Set<string>();
    for (const b of sorted) {
      const key = period(b.time);
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > count) break;
      reasons.get(b.name)?.push(`${rule} ${key}`);
    }
  }
  if (sorted[0]) reasons.get(sorted[0].name)?.push("newest");
  for (const b of sorted) if (protect.has(b.name)) reasons.get(b.name)?.push("just made");
  return {
    keep: sorted
      .filter((b) => reasons.get(b.name)?.length)
      .map((b) => ({ backup: b, reasons: reasons.get(b.name) ?? [] })),
    remove: sorted.filter((b) => !reasons.get(b.name)?.length),
  };
}

/**
 * Every complete backup in a directory (a manifest is written last, so a dump without one is not
 * complete), grouped by database. Unreadable manifests are reported and left alone.
 */
export function listBackups(dir: string): { byDatabase: Map<string, Backup[]>; warnings: string[] } {
  const byDatabase = new Map<string, Backup[]>();
  const warnings: string[] = [];
  const files = new Set(readdirSync(dir));
  for (const file of [...files].sort()) {
    if (!file.startsWith("tollgate-") || !file.endsWith(MANIFEST_SUFFIX)) continue;
    const manifestPath = join(dir, file);
    try {
      const manifest = readManifest(manifestPath);
      const backup: Backup = {
        name: file.slice(0, -MANIFEST_SUFFIX.length),
        database: manifest.database,
        time: new Date(manifest.time),
        manifestPath,
        dumpPath: join(dir, manifest.dump.file),
      };
      byDatabase.set(backup.database, [...(byDatabase.get(backup.database) ?? []), backup]);
    } catch (error) {
      warnings.push(`${(error as Error).message}; left alone`);
    }
  }
  for (const file of files) {
    if (file.startsWith(".tollgate-") && file.includes(".partial"))
      warnings.push(`${file} is left over from an interrupted backup; delete it by hand`);
  }
  return { byDatabase, warnings };
}

/**
 * Applies the policy to every database's backups in `dir`. Deletes the manifest first, then the dump,
 * so an interruption never leaves a manifest that points at nothing.
 */
export function pruneBackups(
  dir: string,
  policy: RetentionPolicy,
  {
    dryRun = false,
    protect = new Set<string>(),
    log = () => {},
  }: { dryRun?: boolean; protect?: Set<string>; log?: (line: string) => void } = {},
): PruneResult {
  const { byDatabase, warnings } = listBackups(dir);
  for (const warning of warnings) log(`warning: ${warning}`);
  let kept = 0;
  const removed: string[] = [];
  for (const [, backups] of [...byDatabase].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const plan = planRetention(backups, policy, protect);
    for (const { backup, reasons } of plan.keep) log(`keep   ${backup.name} (${reasons.join(", ")})`);
    for (const backup of plan.remove) {
      log(`${dryRun ? "would delete" : "delete"} ${backup.name}`);
      if (!dryRun) {
        rmSync(backup.manifestPath, { force: true });
        rmSync(backup.dumpPath, { force: true });
      }
      removed.push(backup.name);
    }
    kept += plan.keep.length;
  }
  return { kept, removed, warnings };
}
