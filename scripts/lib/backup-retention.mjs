// Grandfather-father-son retention for the backups in one directory, decided by each manifest's time.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MANIFEST_SUFFIX, readManifest } from "./backup.mjs";

/** @typedef {{ daily: number, weekly: number, monthly: number }} RetentionPolicy */
/** @typedef {{ name: string, database: string, time: Date, manifestPath: string, dumpPath: string }} Backup */

export const DEFAULT_POLICY = Object.freeze({ daily: 7, weekly: 4, monthly: 6 });

const day = (/** @type {Date} */ t) => t.toISOString().slice(0, 10);
const month = (/** @type {Date} */ t) => t.toISOString().slice(0, 7);

/** ISO 8601 week of a UTC time, e.g. "2026-W01" (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(/** @type {Date} */ t) {
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
 * independent (one backup can satisfy several). The newest backup and those in `protect` always stay.
 * @param {Backup[]} backups all of one database
 * @param {RetentionPolicy} policy
 * @param {Set<string>} [protect] names never to delete (the backup just made)
 */
export function planRetention(backups, policy, protect = new Set()) {
  const sorted = [...backups].sort(
    (a, b) => b.time.getTime() - a.time.getTime() || (a.name < b.name ? 1 : -1),
  );
  /** @type {Map<string, string[]>} */
  const reasons = new Map(sorted.map((b) => [b.name, []]));
  /** @type {[string, number, (t: Date) => string][]} */
  const rules = [
    ["daily", policy.daily, day],
    ["weekly", policy.weekly, isoWeek],
    ["monthly", policy.monthly, month],
  ];
  for (const [rule, count, period] of rules) {
    const seen = new Set();
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
 * @param {string} dir
 */
export function listBackups(dir) {
  /** @type {Map<string, Backup[]>} */
  const byDatabase = new Map();
  /** @type {string[]} */
  const warnings = [];
  const files = new Set(readdirSync(dir));
  for (const file of [...files].sort()) {
    if (!file.startsWith("tollgate-") || !file.endsWith(MANIFEST_SUFFIX)) continue;
    const manifestPath = join(dir, file);
    try {
      const manifest = readManifest(manifestPath);
      const backup = {
        name: file.slice(0, -MANIFEST_SUFFIX.length),
        database: manifest.database,
        time: new Date(manifest.time),
        manifestPath,
        dumpPath: join(dir, manifest.dump.file),
      };
      byDatabase.set(backup.database, [...(byDatabase.get(backup.database) ?? []), backup]);
    } catch (error) {
      warnings.push(`${/** @type {Error} */ (error).message}; left alone`);
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
 * @param {string} dir
 * @param {RetentionPolicy} policy
 * @param {{ dryRun?: boolean, protect?: Set<string>, log?: (line: string) => void }} [options]
 */
export function pruneBackups(dir, policy, { dryRun = false, protect = new Set(), log = () => {} } = {}) {
  const { byDatabase, warnings } = listBackups(dir);
  for (const warning of warnings) log(`warning: ${warning}`);
  let kept = 0;
  /** @type {string[]} */
  const removed = [];
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
