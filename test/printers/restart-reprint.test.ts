import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { freePort, startChild, type ChildService } from '../helpers/child.ts';
import { waitFor } from '../helpers/runtime.ts';
import { FakeEscPosPrinter } from '../fakes/escpos-printer.ts';

const OWNER = 'mz_owner_printer-restart-test-0001';

async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${OWNER}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

// PostgreSQL only: the service runs as a child process on a database the test can read while it is down.
const kinds = (await drivers()).filter((k) => k === 'postgres');
for (const kind of kinds) {
  describe(`a ticket written but not confirmed when the hub is SIGKILLed [${kind}]`, () => {
    const children: ChildService[] = [];
    let tdb: TestDb | null = null;
    const printer = new FakeEscPosPrinter();
    afterAll(async () => {
      for (const c of children) await c.kill();
      await tdb?.cleanup();
      await printer.stop();
    });

    it('acceptance 6: prints again after the restart, once, marked REPRINT AFTER RESTART', async () => {
      await printer.start();
      tdb = await createTestDb(kind);
      const port = await freePort();
      const env = {
        PORT: String(port),
        HOST: '127.0.0.1',
        COMMS_BOOTSTRAP_OWNER_TOKEN: OWNER,
        DATABASE_URL: tdb.url!,
      };
      const base = `http://127.0.0.1:${port}`;
      const first = startChild('serve', env);
      children.push(first);
      await first.waitForLine(/API and owner panel on/, 60_000);
      const reg = await api(base, 'POST', '/api/v1/lan/devices', {
        id: 'kitchen-printer',
        role: 'printer',
        name: 'Kitchen printer',
        printer: { address: printer.address, columns: 42 },
      });
      expect(reg.status, JSON.stringify(reg.json)).toBe(201);

      // The printer prints the ticket, then stops answering status: the hub waits for its confirmation.
      printer.setStallAfterJob(true);
      const sent = await api(base, 'POST', '/api/v1/lan/notifications', {
        target: { device: 'kitchen-printer' },
        title: 'Sac içi',
        body: 'Sac içi x1, masa 4',
        source: 'waiter_tablet',
      });
      expect(sent.status).toBe(202);
      const id = sent.json.id as string;
      await waitFor(async () => printer.tickets.length === 1, 30_000, 5);
      await first.kill('SIGKILL');
      const rec = await tdb.db.query<{ status: string }>(
        `SELECT status FROM lan_prints WHERE outbox_id = $1`,
        [id],
      );
      expect(rec.rows.map((r) => r.status)).toEqual(['writing']);

      printer.setStallAfterJob(false);
      const second = startChild('serve', env);
      children.push(second);
      await second.waitForLine(/API and owner panel on/, 60_000);
      // The dead process's printer lease runs out (15 s), then the new worker reprints it.
      await waitFor(async () => printer.tickets.length >= 2, 40_000);
      await waitFor(
        async () => (await api(base, 'GET', `/api/v1/outbox/${id}`)).json.status === 'delivered',
        10_000,
      );
      await new Promise((r) => setTimeout(r, 1_500));
      expect(printer.tickets).toHaveLength(2);
      expect(printer.tickets[0]!.lines).not.toContain('*** REPRINT AFTER RESTART ***');
      expect(printer.tickets[1]!.lines).toContain('*** REPRINT AFTER RESTART ***');
      expect(printer.tickets[1]!.lines).toContain('Sac içi');
      const audit = (await api(base, 'GET', `/api/v1/outbox/${id}/audit`)).json.events as {
        action: string;
        reason: string;
      }[];
      expect(audit.find((e) => e.action === 'printed')!.reason).toMatch(/REPRINT AFTER RESTART/);
      const rec2 = await tdb.db.query<{ status: string; restart_reprint: boolean }>(
        `SELECT status, restart_reprint FROM lan_prints WHERE outbox_id = $1`,
        [id],
      );
      expect(rec2.rows).toEqual([{ status: 'printed', restart_reprint: true }]);
    });
  });
}
