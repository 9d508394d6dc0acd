import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { EnqueueGroups } from '../../src/outbox/enqueue-groups.ts';
import type { Db } from '../../src/store/driver.ts';
import type { NewOutboxRow } from '../../src/store/sql/enqueue.ts';
import { createTenant } from '../../src/store/tenants.ts';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';

function draft(tenantId: string, over: Partial<NewOutboxRow> = {}): NewOutboxRow {
  return {
    id: randomUUID(),
    tenantId,
    channel: 'email',
    adapter: 'smtp',
    target: 'owner@example.az',
    title: null,
    subject: 'Hesabat',
    body: 'Gündəlik hesabat hazırdır',
    template: null,
    data: { report: 'daily', n: 1 },
    locale: 'az',
    source: 'groups-test',
    status: 'ready',
    reason: null,
    mode: 'dry_run',
    idempotencyKey: null,
    requestHash: 'h',
    sendAt: new Date(),
    expiresAt: null,
    maxAttempts: 5,
    actor: 'owner:test',
    ...over,
  };
}

async function counts(db: Db, source: string) {
  const r = await db.query<{ rows: number; audits: number }>(
    `SELECT (SELECT count(*)::int FROM outbox WHERE source = $1) AS rows,
            (SELECT count(*)::int FROM audit_events a JOIN outbox o ON a.entity_id = o.id::text
              WHERE o.source = $1 AND a.action = 'created') AS audits`,
    [source],
  );
  return r.rows[0]!;
}

for (const kind of await drivers()) {
  describe(`enqueue group commit [${kind}]`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
      for (const id of ['acme', 'bravo']) {
        await createTenant(
          t.db,
          { id, name: id, country: 'AZ', currency: 'AZN', timezone: 'Asia/Baku', locale: 'az' },
          'test',
        );
      }
    });
    afterAll(() => t.cleanup());

    it('messages that arrive while one is in flight share a statement; each is stored once with its audit event', async () => {
      const groups = new EnqueueGroups(t.db, { maxInFlight: 1, maxRows: 50 });
      const spy = vi.spyOn(t.db, 'atomic');
      const drafts = Array.from({ length: 120 }, () => draft('acme', { source: 'burst' }));
      const rows = await Promise.all(drafts.map((d) => groups.submit(d)));
      const statements = spy.mock.calls.length;
      spy.mockRestore();

      expect(rows.map((r) => r?.id)).toEqual(drafts.map((d) => d.id));
      expect(rows.every((r) => r?.tenant_id === 'acme' && r.status === 'ready')).toBe(true);
      expect(rows[5]!.data).toEqual({ report: 'daily', n: 1 });
      // One alone, then the 119 that waited in groups of at most 50.
      expect(statements).toBe(4);
      expect(await counts(t.db, 'burst')).toEqual({ rows: 120, audits: 120 });
    });

    it('tenants are grouped apart: every row lands under its own tenant', async () => {
      const groups = new EnqueueGroups(t.db, { maxInFlight: 1, maxRows: 200 });
      const drafts = Array.from({ length: 40 }, (_, i) =>
        draft(i % 2 ? 'acme' : 'bravo', { source: 'mixed' }),
      );
      const rows = await Promise.all(drafts.map((d) => groups.submit(d)));
      rows.forEach((r, i) => expect(r?.tenant_id).toBe(drafts[i]!.tenantId));
      const r = await t.db.query<{ tenant_id: string; n: number }>(
        `SELECT o.tenant_id, count(*)::int AS n FROM outbox o JOIN audit_events a ON a.entity_id = o.id::text
          AND a.tenant_id = o.tenant_id WHERE o.source = 'mixed' GROUP BY 1 ORDER BY 1`,
      );
      expect(r.rows).toEqual([
        { tenant_id: 'acme', n: 20 },
        { tenant_id: 'bravo', n: 20 },
      ]);
    });

    it('a repeated idempotency key inside one group stores one row; the repeat gets null (replayed by the caller)', async () => {
      const groups = new EnqueueGroups(t.db, { maxInFlight: 1, maxRows: 200 });
      const first = groups.submit(draft('acme', { source: 'idem' }));
      const a = draft('acme', { source: 'idem', idempotencyKey: 'daily-2026-11-26' });
      const b = draft('acme', { source: 'idem', idempotencyKey: 'daily-2026-11-26' });
      const [, ra, rb] = await Promise.all([first, groups.submit(a), groups.submit(b)]);
      expect(ra?.id).toBe(a.id);
      expect(rb).toBeNull();
      expect(await counts(t.db, 'idem')).toEqual({ rows: 2, audits: 2 });
    });

    it('a row the database refuses fails alone; the rest of its group is stored', async () => {
      const groups = new EnqueueGroups(t.db, { maxInFlight: 1, maxRows: 200 });
      const head = groups.submit(draft('acme', { source: 'bad' }));
      const good = Array.from({ length: 5 }, () => draft('acme', { source: 'bad' }));
      const bad = draft('acme', { source: 'bad', channel: 'pigeon' });
      const results = await Promise.allSettled([
        head,
        ...good.map((d) => groups.submit(d)),
        groups.submit(bad),
      ]);
      expect(results.slice(0, 6).every((r) => r.status === 'fulfilled' && r.value !== null)).toBe(true);
      expect(results[6]!.status).toBe('rejected');
      expect(await counts(t.db, 'bad')).toEqual({ rows: 6, audits: 6 });
    });

    it('the group statement cannot be pointed at another tenant from inside a scoped transaction', async () => {
      const err = await t.db
        .tx((q) => q.query(`SELECT * FROM enqueue_outbox_many('acme', '[]'::jsonb)`), { tenantId: 'bravo' })
        .catch((e: unknown) => e);
      expect(String(err)).toMatch(/scoped to another tenant/);
    });
  });
}

describe('enqueue group commit when the store is unreachable', () => {
  it('every caller of the group gets the store error; none is retried alone', async () => {
    const unavailable = new AppError(
      'store_unavailable',
      'The database is not reachable; nothing was accepted.',
    );
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const db = {
      kind: 'postgres',
      publish: () => undefined,
      atomic: async () => {
        calls++;
        await gate;
        throw unavailable;
      },
    } as unknown as Db;
    const groups = new EnqueueGroups(db, { maxInFlight: 1, maxRows: 200 });
    const all = Array.from({ length: 6 }, () => groups.submit(draft('acme')).catch((e: unknown) => e));
    release();
    const errs = await Promise.all(all);
    expect(errs.every((e) => e === unavailable)).toBe(true);
    // The first alone, then the five that waited together: no per-message retries after the failure.
    expect(calls).toBe(2);
  });
});
