import { describe, expect, it } from 'vitest';
import { createTestDb, postgresAvailable } from '../helpers/db.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import { loadMigrations, migrate } from '../../src/store/migrate.ts';
import pg from 'pg';

describe.runIf(await postgresAvailable())('migrations [postgres]', () => {
  it('two processes starting at once on an empty database: applied once, both succeed', async () => {
    const t = await createTestDb('postgres');
    // Start from an empty schema in the same database.
    const c = new pg.Client({ connectionString: t.url! });
    await c.connect();
    await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    await c.end();
    const a = await PostgresDb.open(t.url!, 2);
    const b = await PostgresDb.open(t.url!, 2);
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    const all = (await loadMigrations()).map((m) => m.name);
    expect([...ra.applied, ...rb.applied].sort()).toEqual(all.sort());
    const rows = await a.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows.rows[0]!.n).toBe(all.length);
    expect((await migrate(a)).applied).toEqual([]);
    await a.close();
    await b.close();
    await t.cleanup();
  });
});

describe('migration files', () => {
  it('are numbered without gaps or duplicates', async () => {
    const ms = await loadMigrations();
    expect(ms.map((m) => m.version)).toEqual(ms.map((_, i) => i + 1));
  });
});
