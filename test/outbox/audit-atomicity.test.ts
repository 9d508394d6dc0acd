import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';

for (const kind of await drivers()) {
  describe(`audit is written in the same transaction as the status change [${kind}]`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createTestApp(kind, { env: { COMMS_LEASE_MS: '1000' } });
      // Failure injected between the status change and its audit event: the audit insert for the
      // final transition raises, so the whole statement (status, attempt, audit) must roll back.
      await app.db.exec(`
        CREATE FUNCTION inject_audit_failure() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.to_status = 'mock_sent' AND current_setting('test.inject', true) IS DISTINCT FROM 'off'
             AND EXISTS (SELECT 1 FROM pg_class WHERE relname = 'inject_on') THEN
            RAISE EXCEPTION 'injected audit failure';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TABLE inject_on (x int);
        CREATE TRIGGER inject_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION inject_audit_failure();`);
    });
    afterAll(() => app.close());

    it('a failed audit write leaves no status change, no attempt row; the row is recovered after the lease', async () => {
      const res = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/outbox',
        payload: {
          channel: 'telegram',
          target: '123456789',
          body: 'Sifariş hazırdır',
          source: 'kitchen_desktop',
        },
      });
      expect(res.statusCode).toBe(202);
      const { id } = res.json() as { id: string };

      // The claim (ready → sending) commits; the completion fails on its audit insert.
      await waitFor(async () => {
        const r = await app.db.query<{ status: string }>('SELECT status FROM outbox WHERE id = $1', [id]);
        return r.rows[0]?.status === 'sending';
      });
      // The lane's attempt to record the completion has run and failed (it logs that after the
      // statement came back with the injected error): whatever it wrote outside its own
      // transaction would be visible now.
      await waitFor(
        async () =>
          app.logs
            .parsed()
            .some(
              (l) =>
                typeof l.msg === 'string' &&
                l.msg.startsWith('recording a batch failed') &&
                String(l.err).includes('injected audit failure'),
            ),
        10_000,
        20,
      );
      const during = await app.db.query<{ status: string; n: number; a: number }>(
        `SELECT o.status, (SELECT count(*)::int FROM outbox_attempts WHERE outbox_id = o.id) AS n,
                (SELECT count(*)::int FROM audit_events WHERE entity_id = o.id::text AND to_status = 'mock_sent') AS a
         FROM outbox o WHERE id = $1`,
        [id],
      );
      expect(during.rows[0]).toEqual({ status: 'sending', n: 0, a: 0 });

      await app.db.exec('DROP TABLE inject_on');
      // The lane retries recording while the lease lasts, or the reaper reclaims the row after it:
      // either way the row ends mock_sent with an unbroken, one-event-per-transition trail.
      await waitFor(
        async () => {
          await app.rt.dispatcher!.reap();
          const r = await app.db.query<{ status: string }>('SELECT status FROM outbox WHERE id = $1', [id]);
          return r.rows[0]?.status === 'mock_sent';
        },
        15_000,
        100,
      );
      const audit = await app.db.query<{ from_status: string | null; to_status: string }>(
        `SELECT from_status, to_status FROM audit_events WHERE entity = 'outbox' AND entity_id = $1 ORDER BY id`,
        [id],
      );
      const trail = audit.rows.map((r) => `${r.from_status}->${r.to_status}`);
      expect(trail.slice(0, 2)).toEqual(['null->ready', 'ready->sending']);
      expect(trail.at(-1)).toBe('sending->mock_sent');
      for (let i = 1; i < audit.rows.length; i++)
        expect(audit.rows[i]!.from_status).toBe(audit.rows[i - 1]!.to_status);
      // Exactly one attempt was recorded, for the completion that committed.
      const attempts = await app.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox_attempts WHERE outbox_id = $1',
        [id],
      );
      expect(attempts.rows[0]!.n).toBe(1);
    });

    it('every row status equals the to_status of its latest audit event', async () => {
      const r = await app.db.query<{ ok: boolean }>(
        `SELECT bool_and(o.status = (SELECT to_status FROM audit_events a WHERE a.entity = 'outbox' AND a.entity_id = o.id::text ORDER BY a.id DESC LIMIT 1)) AS ok FROM outbox o`,
      );
      expect(r.rows[0]!.ok).toBe(true);
    });

    it('audit and attempt rows are append-only', async () => {
      await expect(app.db.query('UPDATE audit_events SET reason = $1', ['x'])).rejects.toThrow(/append-only/);
      await expect(app.db.query('DELETE FROM outbox_attempts')).rejects.toThrow(/append-only/);
    });
  });
}
