import type { Queryable } from '../store/driver.ts';
import type { OutboxRow } from '../store/rows.ts';
import { otpCompletion } from './completion.ts';
import { ACTOR, type OtpContext } from './context.ts';
import { otpLeaseMs } from './deadline.ts';
import { finishOtpRow, insertClaimedOtpRow, type OtpRowInput } from './otp-row.ts';
import { recordVerification, type NewVerification, type VerificationMethod } from './verifications.ts';

/** Who a started verification is for and how its code is checked. */
export interface StartedFor {
  vid: string;
  ownerId: string | null;
  method: VerificationMethod;
  providerSid: string | null;
  ip: string;
}

/** The verification a start records for its outbox row `i`. */
export function newVerification(ctx: OtpContext, i: OtpRowInput, v: StartedFor): NewVerification {
  const env = ctx.config.env;
  return {
    id: v.vid,
    tenantId: i.tenantId,
    phone: i.phone,
    ownerId: v.ownerId,
    method: v.method,
    providerSid: v.providerSid,
    maxChecks: env.OTP_MAX_CHECKS,
    nowMs: ctx.now(),
    ttlS: env.OTP_TTL_S,
    clientIp: v.ip,
    outboxId: i.id,
    actor: ACTOR,
  };
}

/** Inserts and claims the row of a live start, which the request then sends itself. */
export function claimLiveRow(ctx: OtpContext, q: Queryable, i: OtpRowInput): Promise<OutboxRow> {
  return insertClaimedOtpRow(q, {
    ...i,
    reason: 'every live-send condition holds',
    mode: 'live',
    worker: ctx.worker,
    leaseMs: otpLeaseMs(ctx.config.env.OTP_TIMEOUT_MS),
  });
}

/** A QA test number's start: a dry-run row recorded as mock_sent, and a locally checked verification. */
export async function writeTestNumberStart(
  ctx: OtpContext,
  q: Queryable,
  i: OtpRowInput,
  v: Pick<StartedFor, 'vid' | 'ownerId' | 'ip'>,
): Promise<void> {
  const note = 'QA test number (OTP_TEST_NUMBERS): no provider call, the code is checked locally';
  const row = await insertClaimedOtpRow(q, {
    ...i,
    reason: note,
    mode: 'dry_run',
    worker: ctx.worker,
    leaseMs: otpLeaseMs(ctx.config.env.OTP_TIMEOUT_MS),
  });
  const at = new Date(ctx.now());
  await finishOtpRow(
    q,
    ctx.worker,
    otpCompletion(row, {
      status: 'mock_sent',
      reason: note,
      mode: 'dry_run',
      outcome: 'mock_sent',
      request: { kind: 'http', note },
      startedAt: at,
      finishedAt: at,
    }),
  );
  await recordVerification(q, newVerification(ctx, i, { ...v, method: 'test_number', providerSid: null }));
}
