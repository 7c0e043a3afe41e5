/**
 * Finding `version-2/` from what a person types: the dataDir itself, its `version-2` subdirectory, or a directory
 * that already holds `log.*`/`snapshot.*` files. For the command-line tools.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { logFilePrefix, snapshotFilePrefix, versionDirName } from "./limits.ts";

export function resolveVersionDir(path: string): string {
  const absolute = resolve(path);
  if (basename(absolute) === versionDirName) return absolute;
  const nested = join(absolute, versionDirName);
  if (existsSync(nested) && statSync(nested).isDirectory()) return nested;
  if (existsSync(absolute) && statSync(absolute).isDirectory()) {
    const names = readdirSync(absolute);
    if (names.some((n) => n.startsWith(`${logFilePrefix}.`) || n.startsWith(`${snapshotFilePrefix}.`))) return absolute;
  }
  return nested;
}
