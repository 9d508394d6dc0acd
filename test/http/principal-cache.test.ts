import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { PrincipalCache } from '../../src/http/principal-cache.ts';
import { hashToken, newToken, storeToken } from '../../src/store/tokens.ts';
import { createTenant } from '../../src/store/tenants.ts';
import type { Db } from '../../src/store/driver.ts';

/** The same store, counting the statements that reach it. */
function counting(db: Db): { db: Db; count: () => number } {
  let n = 0;
  const wrapped = Object.create(db) as Db;
  wrapped.query = ((sql: string, params?: readonly unknown[], opts?: { name?: string }) => {
    n++;
    return db.query(sql, params, opts);
  }) as Db['query'];
  return { db: wrapped, count: () => n };
}

for (const kind of await drivers()) {
  describe(`bearer token cache [${kind}]`, () => {
    let t: TestDb;
    const token = newToken('owner');
    beforeAll(async () => {
      t = await createTestDb(kind);
      await t.db.tx(async (q) => {
        await createTenant(
          q,
          {
            id: 'cache',
            name: 'Cache Cafe',
            country: 'AZ',
            currency: 'AZN',
            timezone: 'Asia/Baku',
            locale: 'az',
            optIns: {},
          },
          'test',
        );
        await storeToken(q, { token, tenantId: 'cache', role: 'owner', subject: 'cache-owner' });
      });
    });
    afterAll(async () => t.cleanup());

    it('answers repeat lookups from memory, never caches unknown tokens, and drops everything on a change', async () => {
      const c = counting(t.db);
      const cache = new PrincipalCache(c.db, { ttlMs: 60_000 });
      await cache.start();
      expect((await cache.find(token))?.tenant.id).toBe('cache');
      expect((await cache.find(token))?.role).toBe('owner');
      expect(c.count()).toBe(1);

      const unknown = newToken('owner');
      expect(await cache.find(unknown)).toBeNull();
      await storeToken(t.db, { token: unknown, tenantId: 'cache', role: 'service', subject: 'new' });
      expect((await cache.find(unknown))?.role).toBe('service');

      // A change written by anyone (here plain SQL, as another process or the CLI would) clears it.
      const before = c.count();
      await t.db.query('UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1', [hashToken(token)]);
      // Answered from memory until the change notice clears the cache; the first lookup after it
      // goes to the store and finds the token revoked.
      await waitFor(async () => (await cache.find(token)) === null, 5_000, 10);
      expect(c.count()).toBe(before + 1);
      expect(await cache.find(token)).toBeNull();
      expect(c.count()).toBe(before + 2);
      await cache.stop();
    });

    it('is off until change notifications are subscribed', async () => {
      const c = counting(t.db);
      const cache = new PrincipalCache(c.db, { ttlMs: 60_000 });
      const live = newToken('service');
      await storeToken(t.db, { token: live, tenantId: 'cache', role: 'service', subject: 'svc' });
      await cache.find(live);
      await cache.find(live);
      expect(c.count()).toBe(2);
    });
  });

  describe(`a token revoked by another process stops working at once [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind);
    });
    afterAll(async () => app.close());

    it('the API rejects it well within the cache lifetime', async () => {
      const get = () => app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' });
      expect((await get()).statusCode).toBe(200);
      expect((await get()).statusCode).toBe(200);
      const sql = `UPDATE api_tokens SET revoked_at = now() WHERE token_hash = '${hashToken(app.ownerToken)}'`;
      const t0 = Date.now();
      if (kind === 'postgres') {
        const other = new pg.Client({ connectionString: app.url! });
        await other.connect();
        await other.query(sql);
        await other.end();
      } else {
        await app.db.query(sql);
      }
      for (;;) {
        if ((await get()).statusCode === 401) break;
        expect(Date.now() - t0).toBeLessThan(1_000);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}
