/**
 * File-system faults for tests of the CLI's failure paths: a folder without write permission, a
 * full disk. Root ignores permissions, so when the tests run as root the CLI under test is started
 * as `nobody` (its folders handed over to it); a full disk is a tiny tmpfs where this process may
 * mount one (root in a machine that allows it), else a file-size limit (`ulimit -f`), whose EFBIG
 * the CLI meets where it would meet ENOSPC.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmod, chown, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const IS_ROOT = process.getuid?.() === 0;

/** The user the CLI runs as in permission tests: `nobody` when the tests run as root, else the tests' own. */
export const CLI_USER: { uid: number; gid: number } | undefined = IS_ROOT ? { uid: 65534, gid: 65534 } : undefined;

/** Hands `path` (recursively) to {@link CLI_USER}, so the CLI may write there until the test says otherwise. */
export async function handOver(path: string): Promise<void> {
  if (!CLI_USER) return;
  await chown(path, CLI_USER.uid, CLI_USER.gid);
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    await chown(join(entry.parentPath, entry.name), CLI_USER.uid, CLI_USER.gid);
  }
}

/** No more files can be created in, renamed into or removed from `dir` (files already open stay writable). */
export async function makeReadOnly(dir: string): Promise<void> {
  await chmod(dir, 0o555);
}

export async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
}

function probeMount(): boolean {
  if (!IS_ROOT) return false;
  const dir = execFileSync("mktemp", ["-d", join(tmpdir(), "news-moe-mount-probe-XXXXXX")], { encoding: "utf8" }).trim();
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "ignore" }).status === 0;
  if (mounted) spawnSync("umount", [dir], { stdio: "ignore" });
  spawnSync("rmdir", [dir], { stdio: "ignore" });
  return mounted;
}

/** True when a size-limited tmpfs can be mounted here (a real ENOSPC); otherwise tests use {@link FALLBACK_FILE_SIZE_LIMIT}. */
export const CAN_MOUNT_TMPFS = probeMount();

/** A folder on a tmpfs of `bytes` bytes: writes past its size fail with ENOSPC. `grow` gives it room again; `remove` unmounts it. */
export async function tinyDisk(bytes: number): Promise<{ dir: string; grow(bytes: number): void; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "news-moe-full-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0777`, "tmpfs", dir]);
  return {
    dir,
    grow: (more) => execFileSync("mount", ["-o", `remount,size=${more}`, dir]),
    remove: async () => {
      spawnSync("umount", ["-l", dir], { stdio: "ignore" });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
