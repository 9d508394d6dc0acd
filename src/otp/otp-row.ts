import { createHash } from 'node:crypto';
import type { Queryable } from '../store/driver.ts';
import { completeBatch, type Completion } from '../store/sql/complete.ts';
import { insertOutboxRow } from '../store/sql/enqueue.ts';
import { claimOwnOtpRow } from '../store/sql/otp-rows.ts';
import type { OutboxRow } from '../store/rows.ts';

/**
 * The outbox row of an OTP start. OTP is online only, so the request itself drives its row through
 * the provider: the row is inserted and claimed in one transaction (no dispatcher ever sees it
 * `ready`), and the request records the attempt and the final status. max_attempts is 1, so a
 * process that dies mid-call leaves a row the lease reaper makes `dead`, never a later send.
 */
export interface OtpRowInput {
  id: string;
  tenantId: string;
  adapter: 'twilio_verify';
  phone: string;
  locale: string | null;
  nowMs: number;
  ttlS: number;
  reason: string;
  actor: string;
}

export const OTP_SOURCE = 'owner_login';

function requestHash(i: OtpRowInput): string {
  return createHash('sha256')
    .update(JSON.stringify(['otp_start', i.tenantId, i.phone, i.id]))
    .digest('hex');
}

function base(i: OtpRowInput) {
  return {
    id: i.id,
    tenantId: i.tenantId,
    channel: 'otp_sms',
    adapter: i.adapter,
    target: i.phone,
    title: null,
    subject: null,
    body: null,
    template: null,
    data: null,
    locale: i.locale,
    source: OTP_SOURCE,
    idempotencyKey: null,
    requestHash: requestHash(i),
    sendAt: new Date(i.nowMs),
    expiresAt: new Date(i.nowMs + i.ttlS * 1000),
    maxAttempts: 1,
    actor: i.actor,
  };
}

/** A row refused before any provider call (gate, QA dry-run, not an owner): `blocked` with the reason. */
export async function insertBlockedOtpRow(q: Queryable, i: OtpRowInput): Promise<OutboxRow> {
  const row = await insertOutboxRow(q, { ...base(i), status: 'blocked', reason: i.reason, mode: null });
  if (!row) throw new Error('otp row id collision');
  return row;
}

/** A row the request sends itself: inserted `ready`, claimed by `worker` at once (attempt 1). */
export async function insertClaimedOtpRow(
  q: Queryable,
  i: OtpRowInput & { mode: 'live' | 'dry_run'; worker: string; leaseMs: number },
): Promise<OutboxRow> {
  // Claimed below in this same transaction: a woken dispatcher lane would only run a claim that
  // finds nothing, one wasted statement per sign-in on the database the LAN shares.
  const row = await insertOutboxRow(
    q,
    { ...base(i), status: 'ready', reason: i.reason, mode: i.mode },
    () => true,
  );
  if (!row) throw new Error('otp row id collision');
  const attempts = await claimOwnOtpRow(q, {
    tenantId: i.tenantId,
    id: i.id,
    worker: i.worker,
    leaseMs: i.leaseMs,
  });
  if (attempts === null) throw new Error('otp row could not be claimed by its own request');
  return { ...row, status: 'sending', attempts };
}

/** Records the attempt and the final status of a claimed OTP row (sent / mock_sent / blocked / dead). */
export async function finishOtpRow(q: Queryable, worker: string, c: Completion): Promise<boolean> {
  const done = await completeBatch(q, worker, [c]);
  return done.has(c.id);
}
