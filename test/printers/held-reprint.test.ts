import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { FakeEscPosPrinter } from '../fakes/escpos-printer.ts';
import { rowStatus } from '../lan/helpers.ts';
import { auditOf, notify, registerPrinter, TEST_PRINTER_TIMEOUTS } from './helpers.ts';

interface PrinterList {
  holdAfterMin: number;
  printers: { id: string; state: string; reason: string | null; waiting: number; held: number }[];
  held: { printer: string; seq: number; outboxId: string; title: string | null; createdAt: string }[];
}

for (const kind of await drivers()) {
  describe(`held catch-up and reprints [${kind}]`, () => {
    let app: TestApp;
    let printer: FakeEscPosPrinter;
    let port: number;
    beforeAll(async () => {
      // A port nothing listens on yet: the printer is unreachable (switched off).
      const probe = new FakeEscPosPrinter();
      port = await probe.start();
      await probe.stop();
      app = await createTestApp(kind, { modules: [lanModule({ printerTimeouts: TEST_PRINTER_TIMEOUTS })] });
    });
    afterAll(async () => {
      await app.close();
      await printer?.stop();
    });

    it('acceptance 3: unreachable while 30 tickets arrive over an hour; on recovery the old ones are held, print only on release; discard is audited', async () => {
      await registerPrinter(app, 'kitchen-printer', 'Kitchen printer', {
        address: `tcp://127.0.0.1:${port}`,
      });
      const ids: string[] = [];
      for (let i = 0; i < 30; i++)
        ids.push(await notify(app, { device: 'kitchen-printer' }, `Order ${i + 1}`, `Item ${i + 1}`));
      const down = await waitFor(async () => {
        const l = (
          await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/printers' })
        ).json() as PrinterList;
        const p = l.printers.find((x) => x.id === 'kitchen-printer');
        return p?.state === 'offline' && p;
      });
      expect(down.reason).toMatch(/^unreachable/);
      expect(down.waiting).toBe(30);
      // The simulated hour: ticket i arrived 60 - 2i minutes ago (the newest 8 are within 15 min).
      await app.db.query(
        `UPDATE lan_inbox SET created_at = now() - make_interval(mins => 60 - 2 * (seq::int - 1)) WHERE tenant_id = 'acme' AND device_id = 'kitchen-printer'`,
      );
      printer = new FakeEscPosPrinter({ port });
      await printer.start();
      // Ages 60..16 min are held (23 tickets); 14..2 min print (7 tickets), in order.
      await waitFor(async () => printer.tickets.length === 7, 15_000);
      // A new ticket after them prints in its turn: a held one printed by mistake would come first.
      const marker1 = await notify(app, { device: 'kitchen-printer' }, 'Marker after recovery', 'x');
      await waitFor(
        async () => printer.tickets.some((t) => t.lines.includes('Marker after recovery')),
        15_000,
      );
      await waitFor(async () => (await rowStatus(app, app.ownerToken, marker1)) === 'delivered');
      expect(
        printer.tickets.map((t) => t.lines.find((l) => l.startsWith('Order') || l.startsWith('Marker'))),
      ).toEqual([...Array.from({ length: 7 }, (_, i) => `Order ${24 + i}`), 'Marker after recovery']);
      const list = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/printers' })
      ).json() as PrinterList;
      expect(list.holdAfterMin).toBe(15);
      expect(list.held).toHaveLength(23);
      expect(list.held.map((h) => h.title)).toEqual(Array.from({ length: 23 }, (_, i) => `Order ${i + 1}`));
      expect(list.printers.find((p) => p.id === 'kitchen-printer')).toMatchObject({
        state: 'online',
        waiting: 0,
        held: 23,
      });
      for (const id of ids.slice(23))
        await waitFor(async () => (await rowStatus(app, app.ownerToken, id)) === 'delivered');
      expect(await rowStatus(app, app.ownerToken, ids[0]!)).toBe('sent');
      expect((await auditOf(app, ids[0]!)).some((e) => e.action === 'print_held')).toBe(true);

      // Release one: it prints. Discard another: it never prints, and the audit says who.
      const h1 = list.held[22]!;
      const rel = await app.as(app.ownerToken, {
        method: 'POST',
        url: `/api/v1/lan/printers/kitchen-printer/held/${h1.seq}/release`,
      });
      expect(rel.statusCode, rel.body).toBe(200);
      await waitFor(async () => printer.tickets.some((t) => t.lines.includes('Order 23')));
      await waitFor(async () => (await rowStatus(app, app.ownerToken, h1.outboxId)) === 'delivered');
      const h0 = list.held[0]!;
      const dis = await app.as(app.ownerToken, {
        method: 'POST',
        url: `/api/v1/lan/printers/kitchen-printer/held/${h0.seq}/discard`,
      });
      expect(dis.statusCode, dis.body).toBe(200);
      const again = await app.as(app.ownerToken, {
        method: 'POST',
        url: `/api/v1/lan/printers/kitchen-printer/held/${h0.seq}/discard`,
      });
      expect(again.statusCode).toBe(404);
      const bad = await app.as(app.ownerToken, {
        method: 'POST',
        url: `/api/v1/lan/printers/kitchen-printer/held/abc/explode`,
      });
      expect(bad.statusCode).toBe(400);
      const audit0 = await auditOf(app, h0.outboxId);
      expect(audit0.find((e) => e.action === 'print_discarded')).toMatchObject({
        actor: expect.stringMatching(/owner/),
      });
      expect((await auditOf(app, h1.outboxId)).some((e) => e.action === 'print_released')).toBe(true);
      // A new ticket after the discard prints in its turn: the discarded one would have come first.
      const marker2 = await notify(app, { device: 'kitchen-printer' }, 'Marker after discard', 'x');
      await waitFor(
        async () => printer.tickets.some((t) => t.lines.includes('Marker after discard')),
        15_000,
      );
      await waitFor(async () => (await rowStatus(app, app.ownerToken, marker2)) === 'delivered');
      expect(printer.tickets.some((t) => t.lines.includes('Order 1'))).toBe(false);
      const after = (
        await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/printers' })
      ).json() as PrinterList;
      expect(after.held).toHaveLength(21);
    });

    it('acceptance 6 (reprint): POST …/reprint prints again marked TƏKRAR for an az restaurant, audited; a down printer answers 503', async () => {
      const id = await notify(app, { device: 'kitchen-printer' }, 'Dolma', 'Yarpaq dolması x3');
      await waitFor(async () => printer.tickets.some((t) => t.lines.includes('Dolma')));
      const r = await app.as(app.ownerToken, {
        method: 'POST',
        url: `/api/v1/lan/prints/${id}/reprint`,
        payload: {},
      });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ printer: 'kitchen-printer', confirmed: true });
      const copies = printer.tickets.filter((t) => t.lines.includes('Dolma'));
      expect(copies).toHaveLength(2);
      expect(copies[0]!.lines).not.toContain('*** TƏKRAR ***');
      expect(copies[1]!.lines).toContain('*** TƏKRAR ***');
      expect(copies[1]!.rasterLines).toBeGreaterThan(0);
      expect((await auditOf(app, id)).find((e) => e.action === 'reprinted')).toMatchObject({
        actor: 'device:kitchen-printer',
        detail: { printer: 'kitchen-printer', outcome: 'confirmed' },
      });
      printer.setCoverOpen(true);
      const down = await app.as(app.ownerToken, {
        method: 'POST',
        url: `/api/v1/lan/prints/${id}/reprint`,
        payload: {},
      });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ error: 'printer_unavailable' });
      expect((down.json() as { message: string }).message).toMatch(/cover_open/);
      printer.setCoverOpen(false);
      expect((await auditOf(app, id)).find((e) => e.action === 'reprint_failed')).toMatchObject({
        detail: { outcome: 'cover_open' },
      });
      const nf = await app.as(app.ownerToken, {
        method: 'POST',
        url: `/api/v1/lan/prints/00000000-0000-4000-8000-000000000000/reprint`,
        payload: {},
      });
      expect(nf.statusCode).toBe(404);
      const bad = await app.as(app.ownerToken, {
        method: 'POST',
        url: `/api/v1/lan/prints/not-a-uuid/reprint`,
        payload: { printer: '__proto__' },
      });
      expect(bad.statusCode).toBe(400);
    });
  });
}
