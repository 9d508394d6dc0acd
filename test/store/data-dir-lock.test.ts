import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataDirLockedError,
  LOCK_FILE,
  lockDataDir,
  lockHolder,
  processStartTime,
} from '../../src/store/data-dir-lock.ts';
import { openStore } from '../../src/store/open.ts';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'comms-lock-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The pid of a process that has exited (and so cannot hold anything). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

function writeLock(dir: string, holder: Record<string, unknown>): void {
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder));
}

describe('the data directory lock (one opener of the embedded store)', () => {
  it('is taken with this process as holder; a second taker is refused naming the directory and the pid', async () => {
    const dir = await freshDir();
    const lock = await lockDataDir(dir, 'serve');
    const held = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
    expect(held).toMatchObject({
      pid: process.pid,
      command: 'serve',
      startedAt: processStartTime(process.pid),
    });
    expect(lockHolder(dir)).toMatchObject({ pid: process.pid, command: 'serve' });
    const err = await lockDataDir(dir, 'cli tenant create').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(lockHolder(dir)).toBeNull();
    (await lockDataDir(dir, 'serve')).release();
  });

  it('a lock of a dead pid is stale and replaced', async () => {
    const dir = await freshDir();
    writeLock(dir, { pid: deadPid(), startedAt: '1', command: 'serve', since: '2026-01-01T00:00:00Z' });
    expect(lockHolder(dir)).toBeNull();
    const lock = await lockDataDir(dir, 'serve');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it.runIf(processStartTime(process.pid) !== null)(
    'a live pid with another start time (a reused pid) is stale and replaced',
    async () => {
      const dir = await freshDir();
      writeLock(dir, { pid: process.ppid, startedAt: '1', command: 'serve', since: '2026-01-01T00:00:00Z' });
      const lock = await lockDataDir(dir, 'serve');
      expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
      lock.release();
    },
  );

  it('a live holder with its own start time keeps the lock', async () => {
    const dir = await freshDir();
    writeLock(dir, {
      pid: process.ppid,
      startedAt: processStartTime(process.ppid),
      command: 'api',
      since: '2026-01-01T00:00:00Z',
    });
    const err = await lockDataDir(dir, 'serve').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).holder).toMatchObject({ pid: process.ppid, command: 'api' });
  });

  it('an unreadable lock file is replaced once it is older than a half-written one can be', async () => {
    const dir = await freshDir();
    const path = join(dir, LOCK_FILE);
    writeFileSync(path, '{"pid":');
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    const lock = await lockDataDir(dir, 'serve');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('release leaves a lock that is no longer its own alone', async () => {
    const dir = await freshDir();
    const lock = await lockDataDir(dir, 'serve');
    const other = {
      pid: process.ppid,
      startedAt: processStartTime(process.ppid),
      command: 'serve',
      since: 'now',
    };
    writeLock(dir, other);
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toEqual(other);
  });

  it('openStore refuses a directory another live process holds, before opening anything', async () => {
    const dir = await freshDir();
    const holder = {
      pid: process.ppid,
      startedAt: processStartTime(process.ppid),
      command: 'serve',
      since: '2026-01-01T00:00:00Z',
    };
    writeLock(dir, holder);
    const err = await openStore({ dataDir: dir, holder: 'cli outbox' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as Error).message).toContain(`pid ${process.ppid}`);
    // Nothing of a store was created beside the lock, and the holder's lock is untouched.
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toEqual(holder);
  });
});
