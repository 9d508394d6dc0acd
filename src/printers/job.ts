import { PrinterFault, PrinterSession, PRINTER_TIMEOUTS } from './transport.ts';

export interface JobTarget {
  address: string;
  confirm: 'status' | 'write';
}

export interface JobResult {
  /** The printer's status after the job said it printed (false on confirm:"write" printers). */
  confirmed: boolean;
}

const PROBLEM_TEXT: ReadonlyMap<string, string> = new Map([
  ['paper_end', 'paper end'],
  ['cover_open', 'cover open'],
  ['error', 'printer error'],
  ['offline', 'printer offline'],
]);

/**
 * One print job: status before (a printer in paper end or with its cover open would keep the bytes
 * and print them whenever it recovers), the bytes, status after. When the status after the write
 * is bad, what the printer holds is cleared (DLE DC4), so it never prints the ticket on its own
 * later while the hub sends it elsewhere or again. `beforeWrite` runs once the printer said it can
 * print, just before the first byte (the caller records that the ticket is being written).
 * Throws PrinterFault.
 */
export async function printJob(
  target: JobTarget,
  bytes: Uint8Array,
  beforeWrite: () => Promise<void>,
  timeouts = PRINTER_TIMEOUTS,
): Promise<JobResult> {
  const s = await PrinterSession.open(target.address, timeouts);
  try {
    if (target.confirm === 'status') {
      const p = await s.status(timeouts);
      if (p) throw new PrinterFault(p, PROBLEM_TEXT.get(p) ?? p);
    }
    await beforeWrite();
    await s.write(bytes, timeouts);
    if (target.confirm === 'write') return { confirmed: false };
    let after;
    try {
      after = await s.status(timeouts, true);
    } catch (err) {
      await s.clearBuffer(timeouts);
      throw err;
    }
    if (after) {
      const cleared = await s.clearBuffer(timeouts);
      throw new PrinterFault(
        after,
        `${PROBLEM_TEXT.get(after) ?? after} after the job${cleared ? ' (its buffer cleared)' : ''}`,
        !cleared,
      );
    }
    return { confirmed: true };
  } finally {
    s.close();
  }
}

/** Status only: null when the printer can print, else the fault. */
export async function probePrinter(
  target: JobTarget,
  timeouts = PRINTER_TIMEOUTS,
): Promise<PrinterFault | null> {
  try {
    const s = await PrinterSession.open(target.address, timeouts);
    try {
      if (target.confirm === 'write') return null;
      const p = await s.status(timeouts);
      return p ? new PrinterFault(p, PROBLEM_TEXT.get(p) ?? p) : null;
    } finally {
      s.close();
    }
  } catch (err) {
    if (err instanceof PrinterFault) return err;
    return new PrinterFault('unreachable', 'connection failed');
  }
}

/** Drops what a printer holds (before its tickets move to the backup). True when it confirmed. */
export async function clearPrinter(address: string, timeouts = PRINTER_TIMEOUTS): Promise<boolean> {
  try {
    const s = await PrinterSession.open(address, timeouts);
    try {
      return await s.clearBuffer(timeouts);
    } finally {
      s.close();
    }
  } catch {
    return false;
  }
}

export function describeFault(err: unknown): { problem: string; message: string; written: boolean } {
  if (err instanceof PrinterFault)
    return { problem: err.problem, message: err.message, written: err.written };
  return { problem: 'error', message: err instanceof Error ? err.message : String(err), written: false };
}
