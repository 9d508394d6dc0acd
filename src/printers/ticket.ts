import ReceiptPrinterEncoder from '@point-of-sale/receipt-printer-encoder';
import ImageData from '@canvas/image-data';
import { codepageHas } from './codepages.ts';
import { PRINTER_PROFILES, SUBSTITUTES, type PrinterProfile } from './profiles.ts';
import { rasterCanDraw, renderRasterLine } from './raster-font.ts';

export interface TicketContent {
  outboxId: string;
  restaurant: string;
  /** Where the ticket came from, as people call it ("POS desktop 01", "Kitchen"). */
  source: string;
  createdAt: Date;
  timezone: string;
  title: string;
  body: string;
  /** Lines printed above the title: "BACKUP FROM …", "DUPLICATE", "REPRINT AFTER RESTART". */
  marks?: string[];
}

export interface EncodedTicket {
  bytes: Uint8Array;
  /** Lines printed as raster images, and lines where characters were substituted. */
  rasterLines: number;
  substitutedLines: number;
}

/** "2026-12-07 23:15" in the tenant's timezone. */
export function ticketTime(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

export function shortId(outboxId: string): string {
  return outboxId.replace(/-/g, '').slice(0, 8);
}

/** Word wrap to `width` characters; words longer than a line are broken. Keeps the text's own line breaks. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.replace(/\r\n?/g, '\n').split('\n')) {
    let line = '';
    for (const word of para.split(/[ \t]+/).filter(Boolean)) {
      let w = [...word];
      while (w.length > width) {
        if (line) out.push(line);
        line = '';
        out.push(w.slice(0, width).join(''));
        w = w.slice(width);
      }
      const ws = w.join('');
      if (!ws) continue;
      if (!line) line = ws;
      else if ([...line].length + 1 + w.length <= width) line += ` ${ws}`;
      else {
        out.push(line);
        line = ws;
      }
    }
    out.push(line);
  }
  return out;
}

/** Control characters never reach the printer: they would be commands. */
function printable(s: string): string {
  return [...s].map((c) => (c.codePointAt(0)! < 0x20 || (c >= '\u007f' && c <= '\u009f') ? ' ' : c)).join('');
}

/**
 * Encodes one kitchen ticket as ESC/POS with the encoder: initialise, header (restaurant, source,
 * time in the tenant's timezone), marks, the title in large type, the body wrapped to `columns`, the
 * outbox id's short form, cut. Each line is printed in a code page of the profile that holds all of
 * it (the encoder picks); a line with a character no code page holds (ə, ₼) is drawn as a raster
 * line (GS v 0), or, on a profile without raster, printed with the documented substitutions.
 */
export function encodeTicket(t: TicketContent, columns: number, profileId: string): EncodedTicket {
  const profile = PRINTER_PROFILES.get(profileId);
  if (!profile) throw new Error(`unknown printer profile ${profileId}`);
  const enc = new ReceiptPrinterEncoder({
    printerModel: profile.printerModel as never,
    columns,
    imageMode: 'raster',
    codepageCandidates: profile.codepages,
    errors: 'relaxed',
  });
  let rasterLines = 0;
  let substitutedLines = 0;
  const textOk = (ch: string) => profile.codepages.some((cp) => codepageHas(cp, ch));

  const put = (raw: string, cols: number): void => {
    const line = printable(raw);
    const chars = [...line];
    if (chars.every(textOk)) {
      enc.line(line);
      return;
    }
    if (profile.raster && chars.every(rasterCanDraw)) {
      const r = renderRasterLine(line, cols);
      enc.image(toImage(r), r.width, r.height, 'threshold');
      rasterLines++;
      return;
    }
    substitutedLines++;
    enc.line(chars.map((c) => (textOk(c) ? c : (SUBSTITUTES.get(c) ?? '?'))).join(''));
  };

  enc.initialize().codepage('auto');
  enc.align('center').bold(true);
  put(t.restaurant, columns);
  enc.bold(false);
  put(`${t.source} ${ticketTime(t.createdAt, t.timezone)}`, columns);
  enc.align('left');
  for (const m of t.marks ?? []) {
    enc.bold(true);
    put(`*** ${m} ***`, columns);
    enc.bold(false);
  }
  // A title line drawn as a raster line comes out in normal size: the font is drawn at one size.
  enc.size(2, 2);
  for (const l of wrap(t.title, Math.max(1, Math.floor(columns / 2)))) put(l, columns);
  enc.size(1, 1);
  for (const l of wrap(t.body, columns)) put(l, columns);
  put(`#${shortId(t.outboxId)}`, columns);
  enc.cut('partial');
  return { bytes: enc.encode(), rasterLines, substitutedLines };
}

function toImage(r: { width: number; height: number; bits: Uint8Array[] }): ImageData {
  const img = new ImageData(r.width, r.height);
  for (let y = 0; y < r.height; y++)
    for (let x = 0; x < r.width; x++) {
      const o = (y * r.width + x) * 4;
      const v = r.bits[y]![x] ? 0 : 255;
      img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
      img.data[o + 3] = 255;
    }
  return img;
}

export type { PrinterProfile };
