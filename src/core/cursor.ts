/**
 * Page cursors of newest-first lists: the last row's timestamp, exact to the microsecond as
 * PostgreSQL keeps it, and its id. A cursor rounded to milliseconds would sit above rows committed
 * in the same millisecond, and the next page would skip them.
 */
export interface Cursor {
  /** UTC timestamp text with up to six fractional digits, e.g. 2026-11-25T09:14:03.123456Z. */
  at: string;
  id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AT_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?Z$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]{1,400}$/;

/** A UUID in the form PostgreSQL's uuid type reads: anything else is refused before it reaches SQL. */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** A real UTC instant in the cursor's form (no 30 February, no 25 o'clock). */
export function isCursorTime(value: string): boolean {
  const m = AT_RE.exec(value);
  if (!m?.[1]) return false;
  const t = new Date(`${m[1]}Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 19) === m[1];
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.at}|${c.id}`, 'utf8').toString('base64url');
}

/** The cursor, or null when it is not one this service made. */
export function decodeCursor(cursor: string): Cursor | null {
  if (!BASE64URL_RE.test(cursor)) return null;
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (parts.length !== 2) return null;
  const [at = '', id = ''] = parts;
  return isCursorTime(at) && isUuid(id) ? { at, id } : null;
}
