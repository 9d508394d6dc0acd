import { createServer } from 'node:net';
import { expect } from 'vitest';
import type { EnqueueInput } from '../../src/outbox/schemas.ts';
import { getTenant } from '../../src/store/tenants.ts';
import type { TestApp } from '../helpers/runtime.ts';
import { waitFor } from '../helpers/runtime.ts';

/** Env for live sends through the real dispatcher: production runtime, sends enabled, short timeouts. */
export const LIVE_ENV: Record<string, string> = {
  MUPZA_RUNTIME: 'production',
  COMMS_EXTERNAL_SENDS: 'enabled',
  // Short, but not so short that a loaded 2-core machine turns a healthy fake's answer into a timeout.
  COMMS_PROVIDER_TIMEOUT_MS: '1500',
  OTP_TIMEOUT_MS: '1500',
  // First retry after 0.5–1 s: quick enough for retry-then-deliver tests, slow enough to cancel a
  // failed row before its retry; every provider-requested wait tested (≥ 2 s) dominates it.
  COMMS_RETRY_BASE_MS: '1000',
  COMMS_RETRY_CAP_MS: '2000',
  COMMS_POLL_MS: '100',
  COMMS_ONLINE_CONCURRENCY: '1',
};

export interface RowState {
  id: string;
  status: string;
  attempts: number;
  reason: string | null;
  last_error_code: string | null;
  provider_message_id: string | null;
  next_attempt_at: Date | null;
}

export async function rowState(app: TestApp, id: string): Promise<RowState> {
  const r = await app.db.query<RowState>(
    'SELECT id::text, status, attempts, reason, last_error_code, provider_message_id, next_attempt_at FROM outbox WHERE id = $1',
    [id],
  );
  return r.rows[0]!;
}

/** Enqueues through the real OutboxService as the acme owner; returns the row id. */
export async function enqueue(
  app: TestApp,
  input: Partial<EnqueueInput> & Pick<EnqueueInput, 'channel' | 'target'>,
): Promise<string> {
  const tenant = (await getTenant(app.db, 'acme'))!;
  const { row } = await app.rt.outbox.enqueue({ source: 'test', ...input } as EnqueueInput, {
    tenant,
    name: 'owner:acme-owner',
  });
  return row.id;
}

const SETTLED = [
  'sent',
  'delivered',
  'read',
  'failed',
  'dead',
  'blocked',
  'expired',
  'cancelled',
  'mock_sent',
  'queued',
];

/** Waits until the dispatcher recorded an outcome for the row (any status but ready/sending). */
export async function settled(app: TestApp, id: string, ms = 8_000): Promise<RowState> {
  let last: RowState | undefined;
  try {
    return await waitFor(async () => {
      last = await rowState(app, id);
      return SETTLED.includes(last.status) ? last : null;
    }, ms);
  } catch (err) {
    throw new Error(`${(err as Error).message}; row still ${JSON.stringify(last)}`);
  }
}

export async function attemptsOf(app: TestApp, id: string) {
  const r = await app.db.query<{
    attempt: number;
    outcome: string;
    error_code: string | null;
    error_message: string | null;
    finished_at: Date;
    request: unknown;
    response: unknown;
    mode: string;
  }>(
    'SELECT attempt, outcome, error_code, error_message, finished_at, request, response, mode FROM outbox_attempts WHERE outbox_id = $1 ORDER BY id',
    [id],
  );
  return r.rows;
}

/** A failed row is cancelled once observed, so its retry cannot eat the next test's forced error. */
export async function cancelIfFailed(app: TestApp, s: RowState): Promise<void> {
  if (s.status !== 'failed') return;
  await app.rt.outbox.cancel('acme', s.id, 'owner:acme-owner');
}

/**
 * The wait the dispatcher chose for a failed row, measured from the moment the fake answered (its
 * rejection log has the time): the next attempt may not start before answer + provider wait.
 */
export function waitAfterAnswerMs(s: RowState, answeredAt: number): number {
  expect(s.next_attempt_at).not.toBeNull();
  return new Date(s.next_attempt_at!).getTime() - answeredAt;
}

/** A loopback port nothing listens on (bound, then released), for "connection refused". */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
