import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgliteDb } from '../../src/store/pglite-driver.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import { migrate } from '../../src/store/migrate.ts';
import type { Db } from '../../src/store/driver.ts';

/**
 * The driver matrix. Every integration suite runs on embedded PGlite and on the real PostgreSQL
 * server, each test file in its own fresh database.
 *
 * PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres is used to
 * create one database per call, named after a random suffix, dropped on cleanup).
 * PGlite: a brand-new data dir takes seconds to initialise, so one migrated template is made per
 * worker and each database is loaded from its dump (a few hundred ms).
 */
export type DriverKind = 'pglite' | 'postgres';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let pgAvailable: boolean | null = null;
export async function postgresAvailable(): Promise<boolean> {
  if (pgAvailable !== null) return pgAvailable;
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    pgAvailable = true;
  } catch {
    pgAvailable = false;
  } finally {
    await c.end().catch(() => undefined);
  }
  return pgAvailable;
}

/** Drivers to run: PostgreSQL is required when REQUIRE_POSTGRES=1 (CI) and skipped otherwise if down. */
export async function drivers(): Promise<DriverKind[]> {
  if (await postgresAvailable()) return ['pglite', 'postgres'];
  if (process.env.REQUIRE_POSTGRES === '1')
    throw new Error(`PostgreSQL is required but not reachable at ${ADMIN_URL}`);
  return ['pglite'];
}

let template: Blob | null = null;
async function pgliteTemplate(): Promise<Blob> {
  if (template) return template;
  const db = await PgliteDb.open({});
  await migrate(db);
  template = await db.dumpDataDir();
  await db.close();
  return template;
}

export interface TestDb {
  db: Db;
  kind: DriverKind;
  /** Connection string (PostgreSQL only), for child processes. */
  url: string | null;
  cleanup(): Promise<void>;
}

export async function createTestDb(kind: DriverKind, opts: { poolSize?: number } = {}): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await PgliteDb.open({ loadDataDir: await pgliteTemplate() });
    await migrate(db);
    return { db, kind, url: null, cleanup: () => db.close() };
  }
  const name = `comms_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const db = await PostgresDb.open(url.toString(), opts.poolSize ?? 10);
  await migrate(db);
  return {
    db,
    kind,
    url: url.toString(),
    async cleanup() {
      await db.close();
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await a.end();
    },
  };
}
