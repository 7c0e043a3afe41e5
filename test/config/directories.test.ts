/**
 * checkDataDirectories: dataDir and dataLogDir are created at start-up as Apache's FileTxnSnapLog does, and one that
 * cannot be used stops start-up with an error naming the key and its value (Apache: "Unable to create data
 * directory", with no key named).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, checkDataDirectories } from "../../src/config/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "zkbook-dirs-"));
  dirs.push(dir);
  return dir;
}

describe("checkDataDirectories", () => {
  it("creates a missing dataDir and dataLogDir, parents included", async () => {
    const root = tempDir();
    const config = { dataDir: join(root, "a", "snap"), dataLogDir: join(root, "b", "log") };
    await checkDataDirectories(config, "zoo.cfg");
    expect(existsSync(config.dataDir) && existsSync(config.dataLogDir)).toBe(true);
  });

  it.each(["dataDir", "dataLogDir"] as const)("refuses a %s that a file is in the way of, naming the key and the value", async (key) => {
    const root = tempDir();
    writeFileSync(join(root, "file"), "x");
    const blocked = join(root, "file", "zk");
    const config = { dataDir: join(root, "ok"), dataLogDir: join(root, "ok"), [key]: blocked };
    const error = (await checkDataDirectories(config, "conf/zoo.cfg").catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.key).toBe(key);
    expect(error.value).toBe(blocked);
    expect(error.message).toBe(
      `conf/zoo.cfg: ${key}="${blocked}" is not valid: cannot create or write this directory (a file is in the way); ` +
        "it must be a directory this user can create and write",
    );
  });
});
