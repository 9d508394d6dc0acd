import { connect, type Socket } from 'node:net';
import {
  CLEAR_ANSWER,
  CLEAR_BUFFER,
  DLE,
  EOT,
  parseStatus,
  statusProblem,
  type StatusProblem,
} from '../core/escpos-status.ts';

/** Timeouts of one printer job. A printer on the LAN answers in milliseconds; these are for the dead ones. */
export const PRINTER_TIMEOUTS = { connectMs: 3_000, statusMs: 2_000, writeMs: 10_000 };

export type PrintProblem = StatusProblem | 'unreachable' | 'no_status' | 'write_failed';

export class PrinterFault extends Error {
  constructor(
    readonly problem: PrintProblem,
    message: string,
    /** Bytes of the job reached the printer (it may hold or print them). */
    readonly written = false,
  ) {
    super(message);
  }
}

/** One TCP session with an ESC/POS printer: real-time status, clear buffer, write. */
export class PrinterSession {
  private readonly got: number[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      for (const b of d) this.got.push(b);
      this.waiter?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    sock.on('error', () => undefined);
  }

  static open(address: string, timeouts = PRINTER_TIMEOUTS): Promise<PrinterSession> {
    const m = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(address);
    if (!m) return Promise.reject(new PrinterFault('unreachable', 'bad printer address'));
    return new Promise((resolve, reject) => {
      const sock = connect({ host: m[1]!, port: Number(m[2]) });
      sock.setNoDelay(true);
      const t = setTimeout(() => {
        sock.destroy();
        reject(new PrinterFault('unreachable', `no TCP connection within ${timeouts.connectMs} ms`));
      }, timeouts.connectMs);
      sock.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(t);
        reject(new PrinterFault('unreachable', `connection failed (${err.code ?? 'error'})`));
      });
      sock.once('connect', () => {
        clearTimeout(t);
        resolve(new PrinterSession(sock));
      });
    });
  }

  private async read(n: number, ms: number): Promise<number[] | null> {
    const until = Date.now() + ms;
    while (this.got.length < n && !this.closed) {
      const left = until - Date.now();
      if (left <= 0) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
      this.waiter = null;
    }
    return this.got.length >= n ? this.got.splice(0, n) : null;
  }

  private send(bytes: Uint8Array | readonly number[], ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new PrinterFault('write_failed', `write not taken within ${ms} ms`, true)),
        ms,
      );
      this.sock.write(Buffer.from(bytes as Uint8Array), (err) => {
        clearTimeout(t);
        if (err) reject(new PrinterFault('write_failed', 'the connection broke during the write', true));
        else resolve();
      });
    });
  }

  /** DLE EOT 1..4; the first problem found, or null when it can print. Throws no_status. */
  async status(timeouts = PRINTER_TIMEOUTS, written = false): Promise<StatusProblem | null> {
    this.got.length = 0;
    await this.send([DLE, EOT, 1, DLE, EOT, 2, DLE, EOT, 3, DLE, EOT, 4], timeouts.statusMs).catch(() => {
      throw new PrinterFault('no_status', 'the status query could not be sent', written);
    });
    const bytes = await this.read(4, timeouts.statusMs);
    if (!bytes)
      throw new PrinterFault('no_status', `no status answer within ${timeouts.statusMs} ms`, written);
    try {
      return statusProblem(parseStatus(bytes));
    } catch {
      throw new PrinterFault('no_status', 'the answer was not an ESC/POS status', written);
    }
  }

  /** DLE DC4 fn=8: drop what the printer holds. True when it confirmed. */
  async clearBuffer(timeouts = PRINTER_TIMEOUTS): Promise<boolean> {
    this.got.length = 0;
    try {
      await this.send(CLEAR_BUFFER, timeouts.statusMs);
    } catch {
      return false;
    }
    const r = await this.read(3, timeouts.statusMs);
    return r !== null && r.every((b, i) => b === CLEAR_ANSWER[i]);
  }

  write(bytes: Uint8Array, timeouts = PRINTER_TIMEOUTS): Promise<void> {
    return this.send(bytes, timeouts.writeMs);
  }

  close(): void {
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 1_000).unref();
  }
}
