/**
 * ESC/POS real-time status (DLE EOT n), after Epson's ESC/POS reference. Every answer is one byte
 * with bits 1 and 4 set and bits 0 and 7 clear; anything else is not a status answer.
 *   n=1 printer status:   bit 3 offline
 *   n=2 offline cause:    bit 2 cover open, bit 3 paper fed by the feed button, bit 5 stopped by
 *                         paper end, bit 6 error
 *   n=3 error cause:      bit 3 autocutter error, bit 5 unrecoverable error, bit 6 auto-recoverable error
 *   n=4 roll paper sensor: bits 2-3 paper near end, bits 5-6 paper end
 */
export const DLE = 0x10;
export const EOT = 0x04;
export const DC4 = 0x14;
/** DLE DC4 fn=8 (clear buffers): the fixed parameter bytes after 10 14 08. */
export const CLEAR_BUFFER = [DLE, DC4, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08] as const;
/** The printer's answer to a buffer clear: header 0x37, identifier 0x25, NUL. */
export const CLEAR_ANSWER = [0x37, 0x25, 0x00] as const;

const FIXED_MASK = 0b1001_0011;
const FIXED_VALUE = 0b0001_0010;

export function isStatusByte(b: number): boolean {
  return (b & FIXED_MASK) === FIXED_VALUE;
}

export interface PrinterCondition {
  offline: boolean;
  coverOpen: boolean;
  paperEnd: boolean;
  paperNearEnd: boolean;
  error: boolean;
  cutterError: boolean;
  unrecoverable: boolean;
}

export type StatusProblem = 'paper_end' | 'cover_open' | 'error' | 'offline';

/** The four answers (n=1..4) a printer in this condition gives. */
export function statusBytes(c: PrinterCondition): [number, number, number, number] {
  const b = FIXED_VALUE;
  return [
    b | (c.offline || c.coverOpen || c.paperEnd || c.error ? 0x08 : 0),
    b | (c.coverOpen ? 0x04 : 0) | (c.paperEnd ? 0x20 : 0) | (c.error ? 0x40 : 0),
    b |
      (c.cutterError ? 0x08 : 0) |
      (c.unrecoverable ? 0x20 : 0) |
      (c.error && !c.cutterError && !c.unrecoverable ? 0x40 : 0),
    b | (c.paperNearEnd || c.paperEnd ? 0x0c : 0) | (c.paperEnd ? 0x60 : 0),
  ];
}

/** The four answers read back; throws on a byte that is not a status answer. */
export function parseStatus(bytes: readonly number[]): PrinterCondition {
  if (bytes.length !== 4 || !bytes.every(isStatusByte)) throw new Error('not an ESC/POS status answer');
  const [s1, s2, s3, s4] = bytes as [number, number, number, number];
  return {
    offline: (s1 & 0x08) !== 0,
    coverOpen: (s2 & 0x04) !== 0,
    paperEnd: (s2 & 0x20) !== 0 || (s4 & 0x60) !== 0,
    paperNearEnd: (s4 & 0x0c) !== 0,
    error: (s2 & 0x40) !== 0 || (s3 & 0x68) !== 0,
    cutterError: (s3 & 0x08) !== 0,
    unrecoverable: (s3 & 0x20) !== 0,
  };
}

/** The first reason this printer cannot print, most specific first; null when it can. */
export function statusProblem(c: PrinterCondition): StatusProblem | null {
  if (c.paperEnd) return 'paper_end';
  if (c.coverOpen) return 'cover_open';
  if (c.error) return 'error';
  if (c.offline) return 'offline';
  return null;
}
