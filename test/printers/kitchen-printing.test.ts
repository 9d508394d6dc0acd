import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import { lanModule } from '../../src/lan/module.ts';
import { ticketTime } from '../../src/printers/ticket.ts';
import type { FakeEscPosPrinter } from '../fakes/escpos-printer.ts';
import { rowStatus } from '../lan/helpers.ts';
import { auditOf, notify, registerPrinter, startPrinters, TEST_PRINTER_TIMEOUTS } from './helpers.ts';

for (const kind of await drivers()) {
  describe(`kitchen printers [${kind}]`, () => {
    let app: TestApp;
    let printers: FakeEscPosPrinter[];
    beforeAll(async () => {
      printers = await startPrinters(4);
      app = await createTestApp(kind, { modules: [lanModule({ printerTimeouts: TEST_PRINTER_TIMEOUTS })] });
    });
    afterAll(async () => {
      await app.close();
      for (const p of printers) await p.stop();
    });

    it('validates printer registration: address ranges, settings, backup, odd keys', async () => {
      const bad = async (payload: unknown, code: string) => {
        const r = await app.as(app.ownerToken, {
          method: 'POST',
          url: '/api/v1/lan/devices',
          payload: payload as object,
        });
        expect(r.statusCode, r.body).toBeGreaterThanOrEqual(400);
        expect(r.statusCode).toBeLessThan(500);
        expect((r.json() as { error: string }).error).toBe(code);
      };
      await bad(
        { id: 'p-x', role: 'printer', name: 'X', printer: { address: 'tcp://8.8.8.8:9100' } },
        'printer_address_not_allowed',
      );
      await bad(
        { id: 'p-x', role: 'printer', name: 'X', printer: { address: 'tcp://printer.example.com:9100' } },
        'printer_address_not_allowed',
      );
      await bad(
        { id: 'p-x', role: 'printer', name: 'X', printer: { address: 'tcp://[2001:db8::1]:9100' } },
        'printer_address_not_allowed',
      );
      await bad(
        { id: 'p-x', role: 'kitchen', name: 'X', printer: { address: 'tcp://10.0.0.5:9100' } },
        'validation_failed',
      );
      await bad(
        { id: 'p-x', role: 'printer', name: 'X', printer: { address: 'tcp://10.0.0.5:9100', columns: 4 } },
        'validation_failed',
      );
      await bad(
        {
          id: 'p-x',
          role: 'printer',
          name: 'X',
          printer: { address: 'tcp://10.0.0.5:9100', profile: '__proto__' },
        },
        'validation_failed',
      );
      await bad(
        {
          id: 'p-x',
          role: 'printer',
          name: 'X',
          printer: { address: 'tcp://10.0.0.5:9100', constructor: 1 },
        },
        'validation_failed',
      );
      await bad(
        {
          id: 'p-x',
          role: 'printer',
          name: 'X',
          printer: { address: 'tcp://10.0.0.5:9100', backup: 'nope' },
        },
        'validation_failed',
      );
      // Nothing half-written: the id is still free.
      const ok = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/devices',
        payload: { id: 'p-x', role: 'printer', name: 'X', printer: { address: 'tcp://192.168.1.50:9100' } },
      });
      expect(ok.statusCode, ok.body).toBe(201);
      expect(ok.json()).toMatchObject({
        printer: { address: 'tcp://192.168.1.50:9100', columns: 48, confirm: 'status', failoverAfterS: 20 },
      });
      const patch = await app.as(app.ownerToken, {
        method: 'PATCH',
        url: '/api/v1/lan/devices/p-x',
        payload: { printer: { columns: 32, address: 'tcp://169.254.3.4:9100' } },
      });
      expect(patch.statusCode, patch.body).toBe(200);
      expect(patch.json()).toMatchObject({ printer: { columns: 32, address: 'tcp://169.254.3.4:9100' } });
      const patchBad = await app.as(app.ownerToken, {
        method: 'PATCH',
        url: '/api/v1/lan/devices/p-x',
        payload: { printer: { address: 'tcp://1.1.1.1:9100' } },
      });
      expect(patchBad.statusCode).toBe(400);
      const del = await app.as(app.ownerToken, { method: 'DELETE', url: '/api/v1/lan/devices/p-x' });
      // A printer registered without settings (its tickets wait) gets them later; the address is then required.
      const bare = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/devices',
        payload: { id: 'p-y', role: 'printer', name: 'Y' },
      });
      expect(bare.statusCode, bare.body).toBe(201);
      const noAddr = await app.as(app.ownerToken, {
        method: 'PATCH',
        url: '/api/v1/lan/devices/p-y',
        payload: { printer: { columns: 32 } },
      });
      expect(noAddr.statusCode).toBe(400);
      const set = await app.as(app.ownerToken, {
        method: 'PATCH',
        url: '/api/v1/lan/devices/p-y',
        payload: { printer: { address: 'tcp://10.1.2.3:9100' } },
      });
      expect(set.statusCode, set.body).toBe(200);
      expect(set.json()).toMatchObject({ printer: { address: 'tcp://10.1.2.3:9100', columns: 48 } });
      const kds = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/devices',
        payload: { id: 'kds-z', role: 'kitchen', name: 'Z' },
      });
      expect(kds.statusCode).toBe(201);
      const kdsPatch = await app.as(app.ownerToken, {
        method: 'PATCH',
        url: '/api/v1/lan/devices/kds-z',
        payload: { printer: { address: 'tcp://10.1.2.3:9100' } },
      });
      expect(kdsPatch.statusCode).toBe(400);
      for (const d of ['p-y', 'kds-z'])
        await app.as(app.ownerToken, { method: 'DELETE', url: `/api/v1/lan/devices/${d}` });
      expect(del.statusCode).toBe(204);
    });

    it('acceptance 1: a kitchen notification to role:printer prints on both printers; delivered only after both confirmed', async () => {
      const [a, b] = printers as [FakeEscPosPrinter, FakeEscPosPrinter];
      await registerPrinter(app, 'printer-01', 'Hot kitchen', { address: a.address });
      await registerPrinter(app, 'printer-02', 'Cold kitchen', { address: b.address });
      b.setPaperEnd(true);
      const id = await notify(app, { role: 'printer' }, 'Masa 7: plov', 'Plov x2\nDovğa x1, az duzlu');
      const t1 = await waitFor(
        async () => a.tickets.find((t) => t.lines.includes('#' + id.replace(/-/g, '').slice(0, 8))),
        20_000,
      );
      const when = ticketTime(
        new Date(
          (await app.as(app.ownerToken, { method: 'GET', url: `/api/v1/outbox/${id}` })).json()
            .createdAt as string,
        ),
        'Asia/Baku',
      );
      expect(t1.lines).toContain('Masa 7: plov');
      expect(t1.lines).toContain('Plov x2');
      expect(t1.lines).toContain('Dovğa x1, az duzlu');
      expect(t1.lines.map((l) => l.trim())).toContain(`Kitchen desktop ${when}`);
      expect(t1.lines.map((l) => l.trim())).toContain('Acme Kebab');
      expect(t1.items.at(-1)).toEqual({ kind: 'cut' });
      expect(t1.items.find((i) => i.kind === 'text' && i.text === 'Masa 7: plov')).toMatchObject({
        width: 2,
        height: 2,
      });
      // printer-02 is out of paper: the row waits for it. Once its worker has found that (the
      // printer list shows it offline for paper_end, with the ticket waiting), nothing was printed.
      const printerList = async () =>
        (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/lan/printers' })).json() as {
          printers: { id: string; state: string; reason: string | null; waiting: number }[];
        };
      const list = await waitFor(async () => {
        const l = await printerList();
        const p2 = l.printers.find((p) => p.id === 'printer-02');
        return p2?.state === 'offline' && p2.waiting === 1 && /paper_end/.test(p2.reason ?? '') && l;
      }, 10_000);
      expect(await rowStatus(app, app.ownerToken, id)).toBe('sent');
      expect(b.tickets).toHaveLength(0);
      expect(list.printers.find((p) => p.id === 'printer-02')).toMatchObject({
        state: 'offline',
        waiting: 1,
      });
      expect(list.printers.find((p) => p.id === 'printer-02')!.reason).toMatch(/paper_end/);
      // Readiness shows the same state as the printer list.
      const ready = (await app.as(app.ownerToken, { method: 'GET', url: '/api/v1/readiness' })).json() as {
        printers: { id: string; state: string; reason: string | null }[];
      };
      expect(ready.printers.find((p) => p.id === 'printer-02')).toMatchObject({ state: 'offline' });
      expect(ready.printers.find((p) => p.id === 'printer-02')!.reason).toMatch(/paper_end/);
      expect(ready.printers.find((p) => p.id === 'printer-01')).toMatchObject({
        state: 'online',
        reason: null,
      });
      b.setPaperEnd(false);
      const t2 = await waitFor(async () => b.tickets.at(0), 10_000);
      expect(t2.lines).toContain('Masa 7: plov');
      expect(t2.lines.map((l) => l.trim())).toContain(`Kitchen desktop ${when}`);
      await waitFor(async () => (await rowStatus(app, app.ownerToken, id)) === 'delivered', 10_000);
      const audit = await auditOf(app, id);
      const printed = audit.filter((e) => e.action === 'printed');
      expect(printed.map((e) => e.detail?.printer).sort()).toEqual(['printer-01', 'printer-02']);
      expect(printed.every((e) => e.detail?.outcome === 'confirmed')).toBe(true);
      // printer-02 was known to be out of paper (probed before, or failed on this job): audited on the device.
      const off = await app.db.query<{ reason: string }>(
        `SELECT reason FROM audit_events WHERE entity = 'device' AND entity_id = 'printer-02' AND action = 'printer_offline'`,
      );
      expect(off.rows.map((r) => r.reason).join()).toMatch(/paper_end/);
      // Printed once each: the paper-end printer printed only after its paper came back.
      expect(a.tickets.filter((t) => t.lines.includes('Masa 7: plov'))).toHaveLength(1);
      expect(b.tickets.filter((t) => t.lines.includes('Masa 7: plov'))).toHaveLength(1);
    });

    it('acceptance 2: paper end on printer-03 → its tickets print on printer-04 with BACKUP FROM; paper back prints nothing twice', async () => {
      const [, , c, d] = printers as FakeEscPosPrinter[];
      await registerPrinter(app, 'printer-04', 'Bar printer', { address: d!.address });
      await registerPrinter(app, 'printer-03', 'Grill printer', {
        address: c!.address,
        backup: 'printer-04',
        failoverAfterS: 2,
      });
      c!.setPaperEnd(true);
      const started = Date.now();
      const ids: string[] = [];
      for (let i = 1; i <= 3; i++)
        ids.push(await notify(app, { device: 'printer-03' }, `Kabab ${i}`, `Lülə kabab x${i}`));
      await waitFor(
        async () => d!.tickets.filter((t) => t.lines.some((l) => l.startsWith('Kabab'))).length === 3,
        20_000,
      );
      const took = Date.now() - started;
      // Within failoverAfterS (2 s) plus the retry and print time.
      expect(took).toBeLessThan(2_000 + 6_000);
      const onBackup = d!.tickets.filter((t) => t.lines.some((l) => l.startsWith('Kabab')));
      expect(onBackup.map((t) => t.lines.find((l) => l.startsWith('Kabab')))).toEqual([
        'Kabab 1',
        'Kabab 2',
        'Kabab 3',
      ]);
      for (const t of onBackup) expect(t.lines).toContain('*** BACKUP FROM Grill printer ***');
      expect(c!.realtime).toContain('clear');
      for (const id of ids)
        await waitFor(async () => (await rowStatus(app, app.ownerToken, id)) === 'delivered', 5_000);
      // Paper back: the primary prints none of them.
      c!.setPaperEnd(false);
      await new Promise((r) => setTimeout(r, 2_500));
      expect(c!.tickets.filter((t) => t.lines.some((l) => l.startsWith('Kabab')))).toHaveLength(0);
      // It is back online, and prints what comes next itself.
      const next = await notify(app, { device: 'printer-03' }, 'Kabab 4', 'x4');
      await waitFor(async () => c!.tickets.some((t) => t.lines.includes('Kabab 4')), 10_000);
      expect(d!.tickets.some((t) => t.lines.includes('Kabab 4'))).toBe(false);
      await waitFor(async () => (await rowStatus(app, app.ownerToken, next)) === 'delivered', 5_000);
      for (const id of ids) {
        const audit = await auditOf(app, id);
        const e = audit.find((x) => x.action === 'printed_on_backup');
        expect(e, JSON.stringify(audit)).toMatchObject({
          actor: 'device:printer-04',
          detail: { printer: 'printer-04', inboxOf: 'printer-03', outcome: 'confirmed' },
        });
        expect(audit.some((x) => x.action === 'printed')).toBe(false);
      }
      const states = await app.db.query<{ action: string; reason: string }>(
        `SELECT action, reason FROM audit_events WHERE entity = 'device' AND entity_id = 'printer-03' AND action LIKE 'printer_o%' ORDER BY id`,
      );
      expect(states.rows.map((r) => r.action)).toEqual(
        expect.arrayContaining(['printer_offline', 'printer_online']),
      );
      expect(states.rows.find((r) => r.action === 'printer_offline')!.reason).toMatch(/paper_end/);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/comms_printer_online\{tenant="acme",printer="printer-03"\} 1/);
    });
  });
}
