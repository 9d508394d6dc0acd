import { mkdir, readdir, rm } from 'node:fs/promises';
import type { Db } from './driver.ts';
import { LOCK_FILE, lockDataDir } from './data-dir-lock.ts';
import { PgliteDb } from './pglite-driver.ts';

/**
 * Backups of the embedded store (PGlite). The running service holds the only opener, so a backup is
 * taken through it: a CHECKPOINT writes the shared buffers out, then PGlite copies its data
 * directory as a tar while no statement runs. A transaction open at that instant is in the copy's
 * WAL without its commit and is rolled back on restore, as after a crash; everything committed
 * (acknowledged) before the copy is in it. PostgreSQL is backed up with pg_dump (docs/deploy.md).
 */

export class BackupError extends Error {
  constructor(
    readonly code: 'not_embedded' | 'target_not_empty' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A consistent snapshot of the embedded store's data directory: an uncompressed tar, with how long
 * the CHECKPOINT and the copy took (the copy holds every other statement back).
 */
export async function snapshotEmbeddedStore(
  db: Db,
): Promise<{ tar: Blob; checkpointMs: number; copyMs: number }> {
  if (!(db instanceof PgliteDb)) {
    throw new BackupError(
      'not_embedded',
      'This service runs on PostgreSQL: back it up with pg_dump (docs/deploy.md).',
    );
  }
  const t0 = performance.now();
  await db.exec('CHECKPOINT');
  const t1 = performance.now();
  const tar = await db.dumpDataDir();
  return { tar, checkpointMs: Math.round(t1 - t0), copyMs: Math.round(performance.now() - t1) };
}

/** Empty but for this restore's own lock file. */
async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).every((f) => f === LOCK_FILE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Restores a snapshot (tar, as `snapshotEmbeddedStore` makes it) into `dataDir`, which must be
 * empty or absent: a restore never overwrites a store. The restored store is opened once to check
 * it; on any failure the directory is emptied again. Returns what the restored store holds.
 */
export async function restoreEmbeddedStore(
  tar: Blob,
  dataDir: string,
): Promise<{ migrations: number; tenants: number; outbox: number }> {
  await mkdir(dataDir, { recursive: true });
  // The one-opener rule holds for a restore too: no service may open the directory meanwhile.
  const lock = await lockDataDir(dataDir, 'restore');
  try {
    return await restoreLocked(tar, dataDir);
  } finally {
    // The snapshot carries the lock file of the service it was taken from: ours again, then gone.
    lock.reassert();
    lock.release();
  }
}

async function restoreLocked(
  tar: Blob,
  dataDir: string,
): Promise<{ migrations: number; tenants: number; outbox: number }> {
  if (!(await isEmptyDir(dataDir))) {
    throw new BackupError(
      'target_not_empty',
      `${dataDir} is not empty: restore only into an empty data directory.`,
    );
  }
  let db: PgliteDb | null = null;
  try {
    db = await PgliteDb.open({ dataDir, loadDataDir: tar });
    const r = await db.query<{ migrations: number; tenants: number; outbox: number }>(
      `SELECT (SELECT count(*)::int FROM schema_migrations) AS migrations,
              (SELECT count(*)::int FROM tenants) AS tenants,
              (SELECT count(*)::int FROM outbox) AS outbox`,
    );
    await db.close();
    return r.rows[0]!;
  } catch (err) {
    await db?.close().catch(() => undefined);
    for (const f of await readdir(dataDir)) {
      if (f !== LOCK_FILE) await rm(`${dataDir}/${f}`, { recursive: true, force: true });
    }
    throw new BackupError(
      'unreadable',
      `The backup could not be restored: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
