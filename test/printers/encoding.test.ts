import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { encodeTicket, wrap } from '../../src/printers/ticket.ts';
import { EscPosDecoder, FakeEscPosPrinter, type PrintedItem } from '../fakes/escpos-printer.ts';
import { parseStatus, statusBytes, statusProblem } from '../../src/core/escpos-status.ts';

const base = {
  outboxId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  restaurant: 'Nərgiz Restoran',
  source: 'POS desktop 01',
  createdAt: new Date('2026-12-07T19:15:00Z'),
  timezone: 'Asia/Baku',
  title: 'Sifariş hazırdır',
};
const AZ = 'Çay, şəkərbura, düşbərə x2. Cəmi 12.50 ₼';
const AZ2 = 'Göyərti və ağ çörək, İsmayıl üçün';
const RU = 'Борщ и пельмени: 2 порции, итого 12 руб.';
const RU_MANAT = 'Итого 12 ₼';

function decode(bytes: Uint8Array): PrintedItem[] {
  const items: PrintedItem[] = [];
  new EscPosDecoder(
    (i) => void (i.kind !== 'init' && items.push(i)),
    () => undefined,
  ).push(Buffer.from(bytes));
  return items;
}
const texts = (items: PrintedItem[]) =>
  items.flatMap((i) => (i.kind === 'text' ? [i.text.trim()] : i.kind === 'raster' ? [i.text] : []));

describe('ticket encoding (acceptance 5: Azerbaijani and Russian round-trip)', () => {
  it('prints Azerbaijani, Russian and the manat sign exactly, raster lines where no code page has a character', () => {
    const t = encodeTicket(
      { ...base, body: [AZ, AZ2, RU].join('\n'), marks: ['TƏKRAR'] },
      48,
      'epson-tm-t20iii',
    );
    const items = decode(t.bytes);
    const lines = texts(items);
    expect(lines).toContain(AZ);
    expect(lines).toContain(AZ2);
    expect(lines).toContain(RU);
    expect(lines).toContain('Nərgiz Restoran');
    expect(lines).toContain('*** TƏKRAR ***');
    expect(lines).toContain('POS desktop 01 2026-12-07 23:15');
    expect(lines).toContain('#0193a1b2');
    // Lines with ə or ₼ are raster lines; the Russian line and the rest are text.
    const rasters = items.filter((i) => i.kind === 'raster');
    expect(rasters.map((r) => r.kind === 'raster' && r.text)).toEqual([
      'Nərgiz Restoran',
      '*** TƏKRAR ***',
      AZ,
      AZ2,
    ]);
    expect(t.rasterLines).toBe(4);
    expect(items.filter((i) => i.kind === 'text').map((i) => i.kind === 'text' && i.text)).toContain(RU);
    expect(t.substitutedLines).toBe(0);
    const title = items.find((i) => i.kind === 'text' && i.text === base.title);
    expect(title).toMatchObject({ width: 2, height: 2 });
    expect(items.at(-1)?.kind === 'cut' || items.some((i) => i.kind === 'cut')).toBe(true);
  });

  it('without raster support, substitutes ə, ₼ as documented; Cyrillic with ₼ too', () => {
    const t = encodeTicket({ ...base, body: [AZ, RU_MANAT].join('\n') }, 32, 'generic-text');
    const lines = texts(decode(t.bytes));
    expect(lines).toContain('Çay, şekerbura, düşbere x2. Cemi');
    expect(lines).toContain('12.50 AZN');
    expect(lines).toContain('Итого 12 AZN');
    expect(decode(t.bytes).some((i) => i.kind === 'raster')).toBe(false);
  });

  it('wraps to the columns', () => {
    expect(wrap('one two three four five', 9)).toEqual(['one two', 'three', 'four five']);
    expect(wrap('abcdefghijkl', 5)).toEqual(['abcde', 'fghij', 'kl']);
  });
});

describe('status bytes', () => {
  it('round-trips every condition with the fixed bits', () => {
    const ok = {
      offline: false,
      coverOpen: false,
      paperEnd: false,
      paperNearEnd: false,
      error: false,
      cutterError: false,
      unrecoverable: false,
    };
    expect(statusBytes(ok)).toEqual([0x12, 0x12, 0x12, 0x12]);
    expect(statusProblem(parseStatus(statusBytes({ ...ok, paperEnd: true })))).toBe('paper_end');
    expect(statusBytes({ ...ok, paperEnd: true })).toEqual([0x1a, 0x32, 0x12, 0x7e]);
    expect(statusProblem(parseStatus(statusBytes({ ...ok, coverOpen: true })))).toBe('cover_open');
    expect(statusProblem(parseStatus(statusBytes({ ...ok, error: true, cutterError: true })))).toBe('error');
    expect(() => parseStatus([0x00, 0x12, 0x12, 0x12])).toThrow();
  });
});

describe('the test printer over TCP', () => {
  const p = new FakeEscPosPrinter();
  beforeAll(async () => void (await p.start()));
  afterAll(() => p.stop());

  function session(): {
    send(b: Uint8Array | number[]): void;
    read(n: number): Promise<number[]>;
    end(): void;
  } {
    const s = connect(p.port, '127.0.0.1');
    s.on('error', () => undefined);
    const got: number[] = [];
    s.on('data', (d: Buffer) => got.push(...d));
    return {
      send: (b) => void s.write(Buffer.from(b)),
      read: async (n) => {
        const until = Date.now() + 3000;
        while (got.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        return got.splice(0, n);
      },
      end: () => void s.end(),
    };
  }

  it('holds what it gets in paper end, prints it on recovery, and a clear drops it', async () => {
    const bytes = encodeTicket({ ...base, body: 'Plov x1' }, 48, 'epson-tm-t20iii').bytes;
    const s = session();
    p.setPaperEnd(true);
    s.send([0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 3, 0x10, 0x04, 4]);
    expect(statusProblem(parseStatus(await s.read(4)))).toBe('paper_end');
    const before = p.tickets.length;
    s.send(bytes);
    // A status query after the ticket: the printer reads its input in order, so once the answer is
    // back the ticket's bytes have been taken in (and held, not printed).
    s.send([0x10, 0x04, 1]);
    expect(await s.read(1)).toHaveLength(1);
    expect(p.tickets.length).toBe(before);
    expect(p.heldItems).toBeGreaterThan(0);
    p.setPaperEnd(false);
    expect(p.tickets.length).toBe(before + 1);
    expect(p.tickets.at(-1)!.lines).toContain('Plov x1');
    // Again, but cleared before the paper comes back: nothing prints.
    p.setCoverOpen(true);
    s.send(bytes);
    await new Promise((r) => setTimeout(r, 100));
    s.send([0x10, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08]);
    expect(await s.read(3)).toEqual([0x37, 0x25, 0x00]);
    p.setCoverOpen(false);
    expect(p.tickets.length).toBe(before + 1);
    s.end();
  });

  it('a hung printer accepts but never answers', async () => {
    p.setHang(true);
    const s = session();
    s.send([0x10, 0x04, 1]);
    expect(await s.read(1)).toEqual([]);
    s.end();
    p.setHang(false);
  });
});
