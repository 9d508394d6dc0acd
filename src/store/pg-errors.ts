import { AppError } from '../core/errors.ts';

/** Connection-level failures map to store_unavailable so the API answers 503, never a raw error. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08001',
  '08003',
  '08004',
]);

export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    e.message ?? '',
  );
}

/** Rethrows `err`, as store_unavailable (the API answers 503) when the server is unreachable. */
export function wrapUnavailable(err: unknown): never {
  if (isUnavailable(err)) {
    throw new AppError('store_unavailable', 'The database is not reachable; nothing was accepted.', {
      cause: err,
    });
  }
  throw err;
}
