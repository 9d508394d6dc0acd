import { mkdir } from 'node:fs/promises';
import type { Db } from './driver.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { PgliteDb } from './pglite-driver.ts';
import { PostgresDb } from './pg-driver.ts';

export async function openStore(opts: {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** What the opener runs (serve, api, a CLI command): recorded in the data directory's lock. */
  holder?: string;
  /** PostgreSQL settings for PGlite (shared_buffers, work_mem); PostgreSQL has its own config. */
  pgliteSettings?: Record<string, string>;
}): Promise<Db> {
  if (opts.databaseUrl) return PostgresDb.open(opts.databaseUrl, opts.poolSize);
  await mkdir(opts.dataDir, { recursive: true });
  // One opener per data directory: throws DataDirLockedError while another process holds it.
  const lock = await lockDataDir(opts.dataDir, opts.holder ?? 'mupza-comms');
  try {
    return await PgliteDb.open({
      dataDir: opts.dataDir,
      onClose: () => lock.release(),
      ...(opts.pgliteSettings ? { settings: opts.pgliteSettings } : {}),
    });
  } catch (err) {
    lock.release();
    throw err;
  }
}
