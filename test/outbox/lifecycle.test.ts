import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';

for (const kind of await drivers()) {
  describe(`outbox lifecycle [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind);
    });
    afterAll(() => app.close());

    it('an email row goes ready → sending → mock_sent with one audit event per transition, in order', async () => {
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: {
          channel: 'email',
          target: 'Owner@Example.az',
          subject: 'Hesabat',
          body: 'Gəlir: 100 ₼',
          source: 'owner_panel',
        },
      });
      expect(res.statusCode, res.body).toBe(202);
      const { id, status } = res.json() as { id: string; status: string };
      expect(status).toBe('ready');
      const item = await waitFor(async () => {
        const r = await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` });
        const j = r.json() as { status: string };
        return j.status === 'mock_sent' ? j : null;
      });
      expect(item).toMatchObject({ target: 'owner@example.az', mode: 'dry_run', attemptCount: 1 });
      const audit = (
        await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}/audit` })
      ).json() as {
        events: { from: string | null; to: string; action: string }[];
      };
      expect(audit.events.map((e) => [e.from, e.to])).toEqual([
        [null, 'ready'],
        ['ready', 'sending'],
        ['sending', 'mock_sent'],
      ]);
      const detail = (
        await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` })
      ).json() as {
        attempts: {
          outcome: string;
          request: { kind: string; envelope: { to: string[] }; message: { messageId: string } };
        }[];
      };
      expect(detail.attempts).toHaveLength(1);
      expect(detail.attempts[0]!.outcome).toBe('mock_sent');
      expect(detail.attempts[0]!.request.envelope.to).toEqual(['owner@example.az']);
      expect(detail.attempts[0]!.request.message.messageId).toContain(id);
    });
  });
}
