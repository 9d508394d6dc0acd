import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, type TestApp } from '../helpers/runtime.ts';
import { createTenant } from '../../src/store/tenants.ts';

for (const kind of await drivers()) {
  describe(`row-level security [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind);
      await app.db.tx((q) =>
        createTenant(
          q,
          {
            id: 'bravo',
            name: 'Bravo',
            country: 'AZ',
            currency: 'AZN',
            timezone: 'Asia/Baku',
            locale: 'az',
            optIns: { email: true },
          },
          'test',
        ),
      );
      for (const t of ['acme', 'bravo']) {
        await app.rt.outbox.enqueue(
          { channel: 'email', target: `${t}@example.az`, body: `for ${t}`, source: 'rls' },
          {
            tenant: (await app.db.query<never>('SELECT * FROM tenants WHERE id = $1', [t])).rows[0]!,
            name: 'test',
          },
        );
      }
    });
    afterAll(() => app.close());

    it('a tenant transaction runs as a role that is neither superuser, owner nor BYPASSRLS', async () => {
      const r = await app.db.tx(
        (q) =>
          q.query<{ role: string; superuser: boolean; bypass: boolean; owner: boolean }>(
            `SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
                    (SELECT tableowner FROM pg_tables WHERE tablename = 'outbox') = current_user AS owner
             FROM pg_roles r WHERE r.rolname = current_user`,
          ),
        { tenantId: 'bravo' },
      );
      expect(r.rows[0]).toEqual({ role: 'mupza_app', superuser: false, bypass: false, owner: false });
    });

    it('a query that forgets its tenant filter still sees only its own tenant', async () => {
      const seen = await app.db.tx(
        async (q) => ({
          outbox: (await q.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM outbox')).rows.map(
            (r) => r.tenant_id,
          ),
          audit: (
            await q.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM audit_events')
          ).rows.map((r) => r.tenant_id),
          tenants: (await q.query<{ id: string }>('SELECT id FROM tenants')).rows.map((r) => r.id),
          tokens: (
            await q.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM api_tokens')
          ).rows.map((r) => r.tenant_id),
        }),
        { tenantId: 'bravo' },
      );
      expect(seen.outbox).toEqual(['bravo']);
      expect(seen.audit).toEqual(['bravo']);
      expect(seen.tenants).toEqual(['bravo']);
      expect(seen.tokens.every((t) => t === 'bravo')).toBe(true);
    });

    it('the enqueue statement cannot be pointed at another tenant from inside a scoped transaction', async () => {
      const err = await app.db
        .tx(
          (q) =>
            q.query(
              `SELECT * FROM enqueue_outbox(gen_random_uuid(), 'acme', 'email', 'smtp', 'x@example.az', NULL, NULL, 'hi', NULL, NULL,
                 'az', 'rls', 'ready', NULL, 'dry_run', NULL, 'h', now(), NULL, 5, 'evil')`,
            ),
          { tenantId: 'bravo' },
        )
        .catch((e: unknown) => e);
      expect(String(err)).toMatch(/scoped to another tenant/);
      const n = await app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE source = 'rls' AND tenant_id = 'acme'`,
      );
      expect(n.rows[0]!.n).toBe(1);
    });

    it("a tenant transaction cannot write another tenant's rows", async () => {
      await expect(
        app.db.tx(
          (q) => q.query(`UPDATE outbox SET reason = 'hijacked' WHERE tenant_id = 'acme' RETURNING id`),
          { tenantId: 'bravo' },
        ),
      ).resolves.toMatchObject({ rowCount: 0 });
      await expect(
        app.db.tx(
          (q) =>
            q.query(
              `INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action) VALUES ('acme', 'outbox', 'x', 'evil', 'forged')`,
            ),
          { tenantId: 'bravo' },
        ),
      ).rejects.toThrow(/row-level security/);
    });

    it('every table with a tenant column has RLS enabled, forced, with both policies', async () => {
      const r = await app.db.query<{ table: string; rls: boolean; forced: boolean; policies: number }>(
        `SELECT c.relname AS table, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
                (SELECT count(*)::int FROM pg_policies p WHERE p.tablename = c.relname) AS policies
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r'
           AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM information_schema.columns col
                WHERE col.table_schema = 'public' AND col.table_name = c.relname AND col.column_name = 'tenant_id'))`,
      );
      expect(r.rows.length).toBeGreaterThan(5);
      for (const t of r.rows) expect(t, t.table).toMatchObject({ rls: true, forced: true, policies: 2 });
    });
  });
}
