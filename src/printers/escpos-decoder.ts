import type { Codepage } from '@point-of-sale/codepage-encoder';
import { DC4, DLE, EOT } from '../core/escpos-status.ts';
import { codepageChars, codepageNumbers } from './codepages.ts';
import { readRasterLine } from './raster-font.ts';

/** What the test printer put on paper, item by item. */
export type PrintedItem =
  | {
      kind: 'text';
      text: string;
      width: number;
      height: number;
      bold: boolean;
      align: 'left' | 'center' | 'right';
    }
  | { kind: 'raster'; width: number; height: number; text: string | null }
  | { kind: 'cut' };

export interface PrintedTicket {
  items: PrintedItem[];
  /** The lines (text, and raster lines read back), in order. */
  lines: string[];
  rasterLines: number;
  at: number;
}

const CODE_PAGES: Codepage[] = [
  'cp437',
  'cp850',
  'cp852',
  'cp857',
  'cp858',
  'cp866',
  'windows1251',
  'windows1252',
  'windows1254',
];
const ALIGN = ['left', 'center', 'right'] as const;

/**
 * Decodes an ESC/POS byte stream into printed items, incrementally (a command split across TCP
 * segments waits for its rest). Real-time commands (DLE EOT, DLE DC4) are reported separately: a
 * printer answers them even while it holds print data.
 */
export class EscPosDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private line = '';
  private chars: string[];
  private width = 1;
  private height = 1;
  private bold = false;
  private align: 'left' | 'center' | 'right' = 'left';
  private readonly pages: Map<number, Codepage>;

  constructor(
    private readonly onItem: (i: PrintedItem | { kind: 'init' }) => void,
    private readonly onRealtime: (cmd: { kind: 'status'; n: number } | { kind: 'clear' }) => void,
    printerModel = 'epson-tm-t20iii',
  ) {
    this.pages = codepageNumbers(printerModel, CODE_PAGES);
    this.chars = codepageChars('cp437');
  }

  /** Forget a half-received job (the printer was reset). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.init();
  }

  private init(): void {
    this.line = '';
    this.lineAttrs = null;
    this.chars = codepageChars('cp437');
    this.width = this.height = 1;
    this.bold = false;
    this.align = 'left';
  }

  /** A line's size and weight are those of its first character (encoders reset them before LF). */
  private lineAttrs: { width: number; height: number; bold: boolean } | null = null;

  private endLine(): void {
    const a = this.lineAttrs ?? { width: this.width, height: this.height, bold: this.bold };
    this.onItem({ kind: 'text', text: this.line, ...a, align: this.align });
    this.line = '';
    this.lineAttrs = null;
  }

  push(data: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    let i = 0;
    const b = this.buf;
    // Returns the command's length, or 0 when it is not all here yet.
    const need = (n: number) => (i + n <= b.length ? n : 0);
    for (;;) {
      if (i >= b.length) break;
      const c = b[i]!;
      let used = 1;
      if (c === 0x0a) this.endLine();
      else if (c === 0x0d) {
        /* carriage return: no paper movement of its own */
      } else if (c === DLE) {
        const op = b[i + 1];
        if (op === undefined) break;
        if (op === EOT) {
          if (!(used = need(3))) break;
          this.onRealtime({ kind: 'status', n: b[i + 2]! });
        } else if (op === DC4) {
          const fn = b[i + 2];
          if (fn === undefined) break;
          if (fn === 0x08) {
            if (!(used = need(10))) break;
            this.onRealtime({ kind: 'clear' });
          } else if (!(used = need(5))) break;
        } else if (op === 0x05) {
          if (!(used = need(3))) break;
        } else used = 1;
      } else if (c === 0x1b) {
        const op = b[i + 1];
        if (op === undefined) break;
        const arg = b[i + 2];
        used = 3;
        switch (op) {
          case 0x40: // ESC @
            used = 2;
            if (this.line) this.endLine();
            this.init();
            this.onItem({ kind: 'init' });
            break;
          case 0x74: // ESC t n
            if (arg === undefined) break;
            this.chars = codepageChars(this.pages.get(arg) ?? 'cp437');
            break;
          case 0x45: // ESC E n
            if (arg !== undefined) this.bold = (arg & 1) === 1;
            break;
          case 0x61: // ESC a n
            if (arg !== undefined) this.align = ALIGN[arg % 48] ?? 'left';
            break;
          case 0x21: // ESC ! n
            if (arg !== undefined) {
              this.bold = (arg & 0x08) !== 0;
              this.height = arg & 0x10 ? 2 : 1;
              this.width = arg & 0x20 ? 2 : 1;
            }
            break;
          case 0x64: // ESC d n: feed n lines
            if (arg !== undefined) {
              if (this.line) this.endLine();
              for (let k = 0; k < arg; k++) this.endLine();
            }
            break;
          case 0x32: // ESC 2
            used = 2;
            break;
          case 0x24: // ESC $ nL nH
            used = 4;
            break;
          default: // ESC - M G { V R % J 3 SP and the like: one parameter
            break;
        }
        if (i + used > b.length) break;
      } else if (c === 0x1d) {
        const op = b[i + 1];
        if (op === undefined) break;
        const arg = b[i + 2];
        used = 3;
        if (op === 0x21) {
          if (arg !== undefined) {
            this.width = ((arg >> 4) & 7) + 1;
            this.height = (arg & 7) + 1;
          }
        } else if (op === 0x56) {
          // GS V m [n]
          if (arg === undefined) break;
          used = arg === 0 || arg === 1 || arg === 48 || arg === 49 ? 3 : 4;
          if (i + used > b.length) break;
          if (this.line) this.endLine();
          this.onItem({ kind: 'cut' });
        } else if (op === 0x76) {
          // GS v 0 m xL xH yL yH d1…dk
          if (i + 8 > b.length) break;
          const xBytes = b[i + 4]! + 256 * b[i + 5]!;
          const h = b[i + 6]! + 256 * b[i + 7]!;
          used = 8 + xBytes * h;
          if (i + used > b.length) break;
          const w = xBytes * 8;
          const bits: Uint8Array[] = [];
          for (let y = 0; y < h; y++) {
            const row = new Uint8Array(w);
            for (let x = 0; x < w; x++) row[x] = (b[i + 8 + y * xBytes + (x >> 3)]! >> (7 - (x & 7))) & 1;
            bits.push(row);
          }
          if (this.line) this.endLine();
          this.onItem({ kind: 'raster', width: w, height: h, text: readRasterLine(bits, w, h) });
        } else if (op === 0x4c || op === 0x57 || op === 0x50) {
          used = 4; // GS L / GS W / GS P nL nH
        }
        if (i + used > b.length) break;
      } else if (c === 0x1c) {
        const op = b[i + 1];
        if (op === undefined) break;
        used = op === 0x2e || op === 0x26 ? 2 : 3; // FS . / FS & ; FS C n and the like
        if (i + used > b.length) break;
      } else if (c >= 0x20) {
        if (this.line === '' && c !== 0x20)
          this.lineAttrs = { width: this.width, height: this.height, bold: this.bold };
        this.line += this.chars[c] ?? '?';
      }
      i += used;
    }
    this.buf = this.buf.subarray(i);
  }
}
