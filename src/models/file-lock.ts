import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * An exclusive lock between processes (and between calls in one process) sharing a cache, so two
 * runs that start on a cold cache do not append to the same `.incomplete` file. It is a file
 * created with O_EXCL holding the owner's pid; a lock whose owner is dead is taken over, so a
 * crash never wedges the cache.
 */

const heldInThisProcess = new Set<string>();

function ownerIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function tryAcquire(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, "wx");
    // Claimed before the first await so another call in this process never sees it as stale.
    heldInThisProcess.add(lockPath);
    try {
      await handle.writeFile(`${process.pid}\n`);
    } catch (error) {
      heldInThisProcess.delete(lockPath);
      await rm(lockPath, { force: true });
      throw error;
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

async function removeIfStale(lockPath: string): Promise<void> {
  let owner: number;
  try {
    owner = Number.parseInt((await readFile(lockPath, "utf8")).trim(), 10);
  } catch {
    return; // released meanwhile
  }
  if (Number.isNaN(owner)) {
    // Empty: its owner may be between creating and writing it; only an old one is abandoned.
    const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > 10_000) await rm(lockPath, { force: true });
    return;
  }
  // Our own pid with no holder here: a previous call in this process died without releasing it.
  const ownStale = owner === process.pid && !heldInThisProcess.has(lockPath);
  if (ownStale || (owner !== process.pid && !ownerIsAlive(owner))) {
    await rm(lockPath, { force: true });
  }
}

export interface LockOptions {
  signal?: AbortSignal;
  /** Told once when the lock is busy, so a CLI can say why it is waiting. */
  onWait?: () => void;
  pollMs?: number;
}

/** Runs `fn` while holding the lock at `lockPath`, waiting for other holders to finish first. */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  await mkdir(dirname(lockPath), { recursive: true });
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (!heldInThisProcess.has(lockPath)) {
      if (await tryAcquire(lockPath)) break;
      await removeIfStale(lockPath);
    }
    if (!told) {
      told = true;
      options.onWait?.();
    }
    await sleep(options.pollMs ?? 200, undefined, options.signal ? { signal: options.signal } : {});
  }
  try {
    return await fn();
  } finally {
    // File first, claim second: a waiter in this process that saw the claim gone while the file
    // was still there would take our live lock for a stale one and delete it.
    await rm(lockPath, { force: true });
    heldInThisProcess.delete(lockPath);
  }
}
