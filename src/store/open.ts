import { mkdir } from 'node:fs/promises';
import type { Db } from './driver.ts';
import { PgliteDb } from './pglite-driver.ts';
import { PostgresDb } from './pg-driver.ts';

export async function openStore(opts: {
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
  /** PostgreSQL settings for PGlite (shared_buffers, work_mem); PostgreSQL has its own config. */
  pgliteSettings?: Record<string, string>;
}): Promise<Db> {
  if (opts.databaseUrl) return PostgresDb.open(opts.databaseUrl, opts.poolSize);
  await mkdir(opts.dataDir, { recursive: true });
  return PgliteDb.open({
    dataDir: opts.dataDir,
    ...(opts.pgliteSettings ? { settings: opts.pgliteSettings } : {}),
  });
}
