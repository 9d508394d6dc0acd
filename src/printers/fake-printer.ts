import { createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import type { Codepage } from '@point-of-sale/codepage-encoder';
import { CLEAR_ANSWER, DC4, DLE, EOT, statusBytes, type PrinterCondition } from '../core/escpos-status.ts';
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

export interface FakePrinterOptions {
  port?: number;
  host?: string;
  name?: string;
  /** The code page numbering this printer uses (an encoder printer model). */
  printerModel?: string;
}

/**
 * A fake ESC/POS network printer (raw TCP, like port 9100) for tests and for trying the hub without
 * hardware. It prints (decodes) what it gets, answers DLE EOT n with Epson status bytes, and can be
 * put into paper end or cover open (it then keeps what it receives and prints it on recovery unless
 * a DLE DC4 clear-buffer came first), an error, a hang (accepts connections, never reads), a reset
 * after some bytes of a job (drops the connection and the half-received job), and slow acceptance
 * (reads only after a delay).
 */
export class FakeEscPosPrinter extends EventEmitter {
  readonly tickets: PrintedTicket[] = [];
  /** Every real-time query and clear received, for tests. */
  readonly realtime: string[] = [];
  bytesReceived = 0;
  connections = 0;
  private current: PrintedItem[] = [];
  private held: PrintedItem[] = [];
  private cond: PrinterCondition = {
    offline: false,
    coverOpen: false,
    paperEnd: false,
    paperNearEnd: false,
    error: false,
    cutterError: false,
    unrecoverable: false,
  };
  private hang = false;
  private acceptDelayMs = 0;
  private resetAfter: number | null = null;
  private silent = false;
  private stallAfterJob = false;
  private stalled = false;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly opts: FakePrinterOptions = {}) {
    super();
    this.server = createServer({ pauseOnConnect: true }, (s) => this.onConnection(s));
  }

  get name(): string {
    return this.opts.name ?? `fake-printer:${this.port}`;
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  get address(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  // ---- simulated conditions ----

  /** Paper out (true) or a new roll in (false: what it held prints now, unless cleared). */
  setPaperEnd(on: boolean): void {
    this.cond.paperEnd = on;
    this.recover();
  }

  setCoverOpen(on: boolean): void {
    this.cond.coverOpen = on;
    this.recover();
  }

  setError(on: boolean): void {
    this.cond.error = on;
    this.cond.cutterError = on;
    this.recover();
  }

  /** Accept connections but never read from them (a wedged printer): no status answer, ever. */
  setHang(on: boolean): void {
    this.hang = on;
    if (!on) for (const s of this.sockets) s.resume();
  }

  /** Read a new connection's bytes only after this delay. */
  setAcceptDelay(ms: number): void {
    this.acceptDelayMs = ms;
  }

  /** After this many more bytes, drop the connection and the job it was sending (once). */
  resetAfterBytes(n: number | null): void {
    this.resetAfter = n;
  }

  /** Do not answer status queries (a printer without real-time status). */
  setSilent(on: boolean): void {
    this.silent = on;
  }

  /**
   * Stop answering status once the next job is printed (until turned off): the moment between a
   * printed ticket and the hub's confirmation, to kill the hub in.
   */
  setStallAfterJob(on: boolean): void {
    this.stallAfterJob = on;
    if (!on) this.stalled = false;
  }

  /** What the printer holds (received while it could not print). */
  get heldItems(): number {
    return this.held.length;
  }

  private get stopped(): boolean {
    return this.cond.paperEnd || this.cond.coverOpen || this.cond.error;
  }

  private recover(): void {
    if (this.stopped || this.held.length === 0) return;
    const items = this.held;
    this.held = [];
    for (const it of items) this.print(it);
  }

  // ---- the wire ----

  private onConnection(s: Socket): void {
    this.connections++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    const decoder = new EscPosDecoder(
      (item) => {
        if (item.kind === 'init') return;
        if (this.stopped) this.held.push(item);
        else this.print(item);
      },
      (cmd) => {
        if (cmd.kind === 'clear') {
          this.realtime.push('clear');
          this.held = [];
          s.write(Buffer.from(CLEAR_ANSWER));
          return;
        }
        this.realtime.push(`status:${cmd.n}`);
        if (this.silent || this.stalled || cmd.n < 1 || cmd.n > 4) return;
        s.write(Buffer.from([statusBytes(this.cond)[cmd.n - 1]!]));
      },
      this.opts.printerModel,
    );
    s.on('data', (d: Buffer) => {
      if (this.resetAfter !== null) {
        if (d.length >= this.resetAfter) {
          this.resetAfter = null;
          // A reset mid-job: the part received so far is lost with the connection.
          this.current = [];
          decoder.reset();
          s.destroy();
          return;
        }
        this.resetAfter -= d.length;
      }
      this.bytesReceived += d.length;
      decoder.push(d);
    });
    if (this.hang) return;
    if (this.acceptDelayMs > 0) setTimeout(() => s.resume(), this.acceptDelayMs).unref();
    else s.resume();
  }

  private print(item: PrintedItem): void {
    if (item.kind !== 'cut') {
      // Feeds before the cut are paper movement, not content.
      this.current.push(item);
      return;
    }
    const items = [...this.current, item];
    this.current = [];
    const lines = items.flatMap((i) =>
      i.kind === 'text' ? [i.text] : i.kind === 'raster' ? [i.text ?? '[raster]'] : [],
    );
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    const ticket: PrintedTicket = {
      items,
      lines,
      rasterLines: items.filter((i) => i.kind === 'raster').length,
      at: Date.now(),
    };
    this.tickets.push(ticket);
    if (this.stallAfterJob) this.stalled = true;
    this.emit('ticket', ticket);
  }
}
