import { writeFileSync, closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The embedded store (PGlite) has exactly one opener at a time: two processes on one data
 * directory each keep their own copy of the pages and overwrite each other's writes. Whoever opens
 * DATA_DIR first writes a lock file into it (created with O_EXCL, so exactly one creator wins)
 * holding its pid, its process start time and what it runs; everyone else is refused until that
 * process is gone. A lock whose pid is dead, or alive but started at another time (the pid was
 * reused after a crash or reboot), is stale and replaced.
 */
export const LOCK_FILE = 'mupza-comms.lock';

export interface LockHolder {
  pid: number;
  /** Process start time as the OS reports it (Linux: clock ticks since boot); null where unknown. */
  startedAt: string | null;
  /** What the holder runs: serve, api, dispatch, or a CLI command. */
  command: string;
  /** When the lock was taken (ISO). */
  since: string;
}

/** The data directory is held by a live process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `The data directory ${dir} is in use by "${holder.command}" (pid ${holder.pid}, since ${holder.since}). ` +
        'The embedded store allows one process at a time.',
    );
    this.name = 'DataDirLockedError';
  }
}

/** The start time of a process, or null where the OS does not tell (then a live pid counts as the holder). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name in field 2 may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that wrote `h` still runs (the same process, not a reused pid). */
export function holderAlive(h: LockHolder): boolean {
  if (!pidAlive(h.pid)) return false;
  const now = processStartTime(h.pid);
  return now === null || h.startedAt === null || now === h.startedAt;
}

function parseHolder(raw: string): LockHolder | null {
  try {
    const v = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return null;
    return {
      pid: v.pid,
      startedAt: typeof v.startedAt === 'string' ? v.startedAt : null,
      command: typeof v.command === 'string' ? v.command.slice(0, 40) : 'unknown',
      since: typeof v.since === 'string' ? v.since.slice(0, 40) : 'unknown',
    };
  } catch {
    return null;
  }
}

function readRaw(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function createExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** A held lock: release() removes the file if it is still ours (also on process exit). */
export class DataDirLock {
  private released = false;
  private readonly onExit = () => this.release();
  constructor(
    readonly dir: string,
    readonly path: string,
    private readonly content: string,
  ) {
    process.once('exit', this.onExit);
  }

  /**
   * Writes this holder back into the lock file: a restore unpacks a snapshot of a running service's
   * directory, lock file included, over ours.
   */
  reassert(): void {
    if (!this.released) writeFileSync(this.path, this.content);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    try {
      if (readRaw(this.path) === this.content) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/** The live holder of `dir`'s lock, or null when no live process holds it. */
export function lockHolder(dir: string): LockHolder | null {
  const raw = readRaw(join(resolve(dir), LOCK_FILE));
  const h = raw === null ? null : parseHolder(raw);
  return h && holderAlive(h) ? h : null;
}

// A half-written lock (its creator is between open and write) is given this long to be completed.
const PARTIAL_GRACE_MS = 2_000;
// Replacing a stale lock is serialised through a second O_EXCL file held for microseconds; one
// left behind by a process killed in that window is ignored after this long.
const TAKEOVER_STALE_MS = 10_000;

/**
 * Takes `dir`'s lock for this process, replacing a stale one; throws DataDirLockedError when a
 * live process holds it. The directory must exist.
 */
export async function lockDataDir(dir: string, command: string): Promise<DataDirLock> {
  const abs = resolve(dir);
  const path = join(abs, LOCK_FILE);
  const content = JSON.stringify({
    pid: process.pid,
    startedAt: processStartTime(process.pid),
    command,
    since: new Date().toISOString(),
  } satisfies LockHolder);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (createExclusive(path, content)) return new DataDirLock(abs, path, content);
    const raw = readRaw(path);
    if (raw === null) continue; // released meanwhile
    const holder = parseHolder(raw);
    if (holder === null && ageMs(path) < PARTIAL_GRACE_MS) {
      await sleep(50);
      continue;
    }
    if (holder && holderAlive(holder)) throw new DataDirLockedError(abs, holder);
    await replaceStale(path, raw);
  }
  throw new Error(`Could not take the lock of ${abs} (${LOCK_FILE} keeps changing); try again.`);
}

/** Removes the lock file if it still holds `staleRaw`, with every other replacer kept out meanwhile. */
async function replaceStale(path: string, staleRaw: string): Promise<void> {
  const guard = `${path}.takeover`;
  if (!createExclusive(guard, String(process.pid))) {
    if (ageMs(guard) > TAKEOVER_STALE_MS) {
      try {
        unlinkSync(guard);
      } catch {
        // another process removed it
      }
    } else await sleep(20);
    return;
  }
  try {
    if (readRaw(path) === staleRaw) unlinkSync(path);
  } finally {
    unlinkSync(guard);
  }
}
