/**
 * Acceptance 4's measurement, shared by its test and bench/printer-hung.ts: a kitchen screen on a
 * real WebSocket and two printers on real TCP; kitchen tickets go to the screen and to both
 * printers (two rows each round), and the screen's enqueue-to-receipt latency is measured with
 * printer-01 healthy and then with it hung (accepts, never reads). No vitest here.
 */
import { lanModule } from '../../src/lan/module.ts';
import { createTestApp, waitFor, type TestApp } from '../helpers/runtime.ts';
import type { DriverKind } from '../helpers/db.ts';
import { FakeEscPosPrinter } from '../fakes/escpos-printer.ts';
import { connectDevice, listenLan, registerDevice } from '../lan/helpers.ts';
import { TEST_PRINTER_TIMEOUTS } from './helpers.ts';

export interface HungFigures {
  rounds: number;
  screenP50Ms: number;
  screenP95Ms: number;
  /** printer-02's tickets printed (of `rounds`) and the slowest of them, enqueue to paper. */
  otherPrinted: number;
  otherMaxMs: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

export async function measureHung(
  kind: DriverKind,
  hung: boolean,
  rounds = 30,
  gapMs = 50,
): Promise<HungFigures> {
  const p1 = new FakeEscPosPrinter();
  const p2 = new FakeEscPosPrinter();
  await p1.start();
  await p2.start();
  let app: TestApp | null = null;
  try {
    app = await createTestApp(kind, { modules: [lanModule({ printerTimeouts: TEST_PRINTER_TIMEOUTS })] });
    const url = await listenLan(app);
    const token = await registerDevice(app, app.ownerToken, 'kds-1', 'kitchen', 'Kitchen screen');
    const screen = await connectDevice(url.ws, token);
    for (const [id, p] of [
      ['printer-01', p1],
      ['printer-02', p2],
    ] as const) {
      const r = await app.as(app.ownerToken, {
        method: 'POST',
        url: '/api/v1/lan/devices',
        payload: { id, role: 'printer', name: id, printer: { address: p.address } },
      });
      if (r.statusCode !== 201) throw new Error(r.body);
    }
    if (hung) p1.setHang(true);
    const sentAt = new Map<string, number>();
    const printedAt = new Map<string, number>();
    p2.on('ticket', (t: { lines: string[] }) => {
      const title = t.lines.find((l) => l.startsWith('Ticket '));
      if (title) printedAt.set(title, performance.now());
    });
    for (let i = 0; i < rounds; i++) {
      const title = `Ticket ${i}`;
      sentAt.set(title, performance.now());
      for (const target of [{ role: 'kitchen' }, { role: 'printer' }]) {
        const r = await app.as(app.ownerToken, {
          method: 'POST',
          url: '/api/v1/lan/notifications',
          payload: { target, title, body: 'Plov x1', source: 'pos' },
        });
        if (r.statusCode !== 202) throw new Error(r.body);
      }
      await new Promise((r) => setTimeout(r, gapMs));
    }
    await screen.waitForCount(rounds, 30_000);
    const lat = screen.got.map((n, i) => screen.gotAt[i]! - sentAt.get(n.title!)!);
    await waitFor(async () => printedAt.size >= rounds, 30_000).catch(() => undefined);
    await screen.close();
    const other = [...printedAt].map(([t, at]) => at - sentAt.get(t)!);
    return {
      rounds,
      screenP50Ms: pct(lat, 50),
      screenP95Ms: pct(lat, 95),
      otherPrinted: printedAt.size,
      otherMaxMs: Math.max(...other),
    };
  } finally {
    p1.setHang(false);
    await app?.close();
    await p1.stop();
    await p2.stop();
  }
}
