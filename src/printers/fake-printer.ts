import { createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { CLEAR_ANSWER, statusBytes, type PrinterCondition } from '../core/escpos-status.ts';
import { EscPosDecoder, type PrintedItem, type PrintedTicket } from './escpos-decoder.ts';

// The decoder lived here first; its importers keep this path.
export { EscPosDecoder, type PrintedItem, type PrintedTicket } from './escpos-decoder.ts';

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
