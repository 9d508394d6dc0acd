import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpSchema, SCHEMA_FILE } from '../../scripts/schema-dump.ts';
import { createTestDb, postgresAvailable, type TestDb } from '../helpers/db.ts';

// The committed schema dump is what the migrations build: a migration that changes the schema
// without the dump being regenerated (node bin/run-ts.mjs scripts/schema-dump.ts) fails here.
describe.runIf(process.env.REQUIRE_POSTGRES === '1' || (await postgresAvailable()))(
  'schema dump [postgres]',
  () => {
    let tdb: TestDb | undefined;
    afterAll(async () => tdb?.cleanup());

    it('the migrations build exactly the committed src/store/schema.sql', async () => {
      tdb = await createTestDb('postgres');
      const committed = readFileSync(SCHEMA_FILE, 'utf8');
      expect(dumpSchema(tdb.url ?? '')).toBe(committed);
      expect(committed).toMatch(/CREATE TABLE public\.outbox/);
    });
  },
);
