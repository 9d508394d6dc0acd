import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { newToken, storeToken } from '../../src/store/tokens.ts';
import { createTenant } from '../../src/store/tenants.ts';
import { OutboxItemDetail } from '../../src/http/api-schemas.ts';

for (const kind of await drivers()) {
  describe(`outbox API [${kind}]`, () => {
    let app: TestApp;
    let otherToken: string;
    beforeAll(async () => {
      app = await createTestApp(kind, {
        optIns: { in_app: true, email: true, telegram: true, whatsapp: false, otp_sms: true },
      });
      otherToken = newToken('owner');
      await app.db.tx(async (q) => {
        await createTenant(
          q,
          {
            id: 'bravo',
            name: 'Bravo Grill',
            country: 'AZ',
            currency: 'AZN',
            timezone: 'Asia/Baku',
            locale: 'ru',
            optIns: { email: true },
          },
          'test',
        );
        await storeToken(q, { token: otherToken, tenantId: 'bravo', role: 'owner', subject: 'bravo-owner' });
      });
    });
    afterAll(() => app.close());

    const post = (payload: unknown, headers: Record<string, string> = {}) =>
      app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: payload as Record<string, unknown>,
        headers,
      });

    it('enqueue is idempotent under 20 concurrent requests with one key: exactly one row', async () => {
      const body = {
        channel: 'email',
        target: 'chef@example.az',
        subject: 'Menyu',
        body: 'Yeni menyu hazırdır',
        source: 'owner_panel',
      };
      const results = await Promise.all(
        Array.from({ length: 20 }, () => post(body, { 'idempotency-key': 'menu-2026-11-25' })),
      );
      expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(202));
      const ids = new Set(results.map((r) => (r.json() as { id: string }).id));
      expect(ids.size).toBe(1);
      expect(results.filter((r) => (r.json() as { created: boolean }).created)).toHaveLength(1);
      const n = await app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE idempotency_key = 'menu-2026-11-25'`,
      );
      expect(n.rows[0]!.n).toBe(1);
      const again = await post({ ...body, idempotencyKey: 'menu-2026-11-25' });
      expect(again.statusCode).toBe(202);
      expect((again.json() as { id: string }).id).toBe([...ids][0]);
      const conflict = await post({ ...body, body: 'başqa mətn' }, { 'idempotency-key': 'menu-2026-11-25' });
      expect(conflict.statusCode).toBe(409);
      expect(conflict.json()).toMatchObject({ error: 'idempotency_conflict' });
    });

    it('the same key in another tenant is another row', async () => {
      const body = { channel: 'email', target: 'chef@example.az', body: 'x', source: 'owner_panel' };
      const a = await app.as(otherToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: body,
        headers: { 'idempotency-key': 'menu-2026-11-25' },
      });
      expect(a.statusCode).toBe(202);
      expect((a.json() as { created: boolean }).created).toBe(true);
    });

    it('whatsapp without opt-in is queued with a reason, and opting in moves it on (audited)', async () => {
      const r = await post({
        channel: 'whatsapp',
        target: '+994501234567',
        body: 'Salam',
        source: 'owner_panel',
      });
      expect(r.json()).toMatchObject({ status: 'queued' });
      expect((r.json() as { reason: string }).reason).toContain('tenant opt-in for whatsapp');
      const id = (r.json() as { id: string }).id;
      const put = await app.as(app.ownerToken, {
        method: 'PUT',
        url: '/api/v1/tenant/policy',
        payload: { optIns: { whatsapp: true } },
      });
      expect(put.statusCode).toBe(200);
      expect(put.json()).toMatchObject({ optIns: { whatsapp: true, email: true } });
      await waitFor(async () => {
        const g = await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` });
        return (g.json() as { status: string }).status === 'mock_sent';
      });
      const policyAudit = await app.db.query<{ actor: string; action: string; entity_id: string }>(
        `SELECT actor, action, entity_id FROM audit_events WHERE tenant_id = 'acme' AND entity = 'policy' ORDER BY id`,
      );
      expect(policyAudit.rows).toEqual([
        { actor: 'owner:acme-owner', action: 'opt_in', entity_id: 'whatsapp' },
      ]);
      const get = await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/tenant/policy' });
      expect(get.json()).toEqual({
        optIns: { otp_sms: true, whatsapp: true, telegram: true, email: true, in_app: true },
      });
    });

    it('a scheduled row can be cancelled; a cancelled row cannot be cancelled again', async () => {
      const r = await post({
        channel: 'email',
        target: 'a@example.az',
        body: 'later',
        sendAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      const id = (r.json() as { id: string }).id;
      const c = await app.as(app.ownerToken, { method: 'POST', url: `/api/v1/outbox/${id}/cancel` });
      expect(c.json()).toMatchObject({ status: 'cancelled' });
      const c2 = await app.as(app.ownerToken, { method: 'POST', url: `/api/v1/outbox/${id}/cancel` });
      expect(c2.statusCode).toBe(409);
      expect(c2.json()).toMatchObject({ error: 'invalid_transition' });
    });

    it('retry brings a blocked row back through the gate', async () => {
      await app.as(app.ownerToken, {
        method: 'PUT',
        url: '/api/v1/tenant/policy',
        payload: { optIns: { otp_sms: false } },
      });
      const r = await post({ channel: 'otp_sms', target: '+994501234567', source: 'owner_panel' });
      expect(r.json()).toMatchObject({ status: 'blocked' });
      const id = (r.json() as { id: string }).id;
      const again = await app.as(app.ownerToken, { method: 'POST', url: `/api/v1/outbox/${id}/retry` });
      // Still no OTP provider env: the gate blocks again and says why.
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ error: 'invalid_transition' });
    });

    it('lists with filters and cursor pagination, masking targets', async () => {
      for (let i = 0; i < 5; i++)
        await post({ channel: 'email', target: `p${i}@example.az`, body: `n${i}`, source: 'pager' });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/v1/outbox?source=pager&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = (await app.as(app.ownerToken, { method: 'GET', url })).json() as {
          items: { id: string; target: string }[];
          nextCursor: string | null;
        };
        seen.push(...page.items.map((i) => i.id));
        for (const i of page.items) expect(i.target).toMatch(/^p•••@example\.az$/);
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(5);
      expect(new Set(seen).size).toBe(5);
    });

    it("a token never sees another tenant's rows: 404 identical to a missing id", async () => {
      const r = await post({ channel: 'email', target: 'x@example.az', body: 'private' });
      const id = (r.json() as { id: string }).id;
      const foreign = await app.as(otherToken, { method: 'GET', url: `/api/v1/outbox/${id}` });
      const missing = await app.as(otherToken, {
        method: 'GET',
        url: `/api/v1/outbox/00000000-0000-4000-8000-000000000000`,
      });
      expect(foreign.statusCode).toBe(404);
      expect({ ...foreign.json(), requestId: null }).toEqual({ ...missing.json(), requestId: null });
      for (const path of ['audit', 'retry', 'cancel']) {
        const m = path === 'audit' ? 'GET' : 'POST';
        const x = await app.as(otherToken, { method: m, url: `/api/v1/outbox/${id}/${path}` });
        expect(x.statusCode).toBe(404);
      }
      const list = (await app.as(otherToken, { method: 'GET', url: '/api/v1/outbox?limit=200' })).json() as {
        items: { id: string }[];
      };
      expect(list.items.map((i) => i.id)).not.toContain(id);
    });

    it('batch enqueue is all-or-nothing', async () => {
      const before = await app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE source = 'report'`,
      );
      const bad = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox/batch',
        payload: {
          messages: [
            { channel: 'email', target: 'a@example.az', body: 'ok', source: 'report' },
            { channel: 'email', target: 'nope', body: 'x', source: 'report' },
          ],
        },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'invalid_email' });
      const mid = await app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE source = 'report'`,
      );
      expect(mid.rows[0]!.n).toBe(before.rows[0]!.n);
      const messages = Array.from({ length: 300 }, (_, i) => ({
        channel: 'email',
        target: `owner${i}@example.az`,
        template: 'daily_owner_report',
        data: { date: '2026-11-25', revenue: 1000 + i, orders: 10 + i },
        source: 'report',
      }));
      const ok = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox/batch',
        payload: { messages },
      });
      expect(ok.statusCode).toBe(202);
      expect((ok.json() as { items: unknown[] }).items).toHaveLength(300);
      const one = await app.db.query<{ body: string; subject: string }>(
        `SELECT body, subject FROM outbox WHERE target = 'owner5@example.az'`,
      );
      // Rendered for the tenant's locale (az) and currency (AZN).
      expect(one.rows[0]!.subject).toBe('Gündəlik sahib hesabatı');
      expect(one.rows[0]!.body).toContain('1.005,00');
      expect(one.rows[0]!.body).toMatch(/₼|AZN/);
    });

    it('the item view carries the template data and matches its documented schema; lists do not carry it', async () => {
      const res = await post({
        channel: 'email',
        target: 'report@example.az',
        template: 'daily_owner_report',
        data: { date: '2026-11-25', revenue: 1845.5, orders: 42 },
        source: 'report',
      });
      expect(res.statusCode, res.body).toBe(202);
      const { id } = res.json() as { id: string };
      const item = await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` });
      expect(item.statusCode).toBe(200);
      const parsed = OutboxItemDetail.parse(item.json());
      expect(parsed.data).toEqual({ date: '2026-11-25', revenue: 1845.5, orders: 42 });
      const list = await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/outbox?limit=5' });
      for (const it of (list.json() as { items: Record<string, unknown>[] }).items)
        expect(it).not.toHaveProperty('data');
    });
  });
}
