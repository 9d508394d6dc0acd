import { AppError } from '../core/errors.ts';
import { safeEqual } from '../core/secret-compare.ts';
import { appendAudit } from '../store/sql/audit.ts';
import type { Queryable } from '../store/driver.ts';
import { ACTOR, testNumbers, type OtpContext } from './context.ts';
import { answerInTime, providerDeadline, sleepUntil } from './deadline.ts';
import { classifiedOf, noTimeLeft, providerFailure, unavailableError } from './errors.ts';
import { findOwnerByPhone } from './owners.ts';
import { parseOtpPhone } from './phone.ts';
import { issueSession, type Session } from './sessions.ts';
import { getVerification, reserveCheck, settleVerification, type VerificationRow } from './verifications.ts';

export interface CheckInput {
  verificationId: string;
  code: string;
  tenant?: string | undefined;
  phone?: string | undefined;
}

type Settled = 'approved' | 'expired' | 'dead';

/** Checks a sign-in code; on approval an owner session. Answers within OTP_TIMEOUT_MS. */
export async function checkOtp(
  ctx: OtpContext,
  input: CheckInput,
  req: { elapsedMs?: number } = {},
): Promise<Session> {
  const t0 = performance.now() - (req.elapsedMs ?? 0);
  return answerInTime(ctx, t0, 'check', checkWork(ctx, input, t0));
}

async function checkWork(ctx: OtpContext, input: CheckInput, t0: number): Promise<Session> {
  const found = await getVerification(ctx.db, input.verificationId);
  // Bound to the request that started it: the id is unguessable, and tenant/phone, when given, must match.
  if (
    !found ||
    (input.tenant !== undefined && input.tenant !== found.tenant_id) ||
    (input.phone !== undefined && !samePhone(ctx, input.phone, found.phone))
  ) {
    throw new AppError('not_found', 'No such verification (start again).');
  }
  const tenantId = found.tenant_id;
  const v = await ctx.db.tx((q) => reserveCheck(q, found.id, ctx.now()), { tenantId });
  if (!v) throw await spent(ctx, found.id, tenantId);
  if (!(await codeMatches(ctx, v, input.code, t0))) throw await wrongCode(ctx, v);
  return approve(ctx, v);
}

async function codeMatches(ctx: OtpContext, v: VerificationRow, code: string, t0: number): Promise<boolean> {
  switch (v.method) {
    case 'test_number': {
      const expected = testNumbers(ctx).get(v.phone);
      return expected !== undefined && safeEqual(code, expected);
    }
    case 'decoy': {
      // Not an owner: no code can match, but the answer takes a provider's time and failures.
      const m = ctx.checkMimic.next();
      await sleepUntil(ctx, t0, m.ms);
      if (!m.outcome.ok) throw unavailableError(m.outcome);
      return false;
    }
    case 'twilio':
      return checkWithTwilio(ctx, v, code, t0);
  }
}

function samePhone(ctx: OtpContext, given: string, stored: string): boolean {
  try {
    return parseOtpPhone(given, testNumbers(ctx)).e164 === stored;
  } catch {
    return false;
  }
}

/** Moves a pending verification on with this flow's actor and clock; false when it was no longer pending. */
function settle(
  ctx: OtpContext,
  q: Queryable,
  v: { id: string; tenantId: string },
  to: Settled,
  reason: string,
): Promise<boolean> {
  return settleVerification(q, {
    id: v.id,
    tenantId: v.tenantId,
    to,
    nowMs: ctx.now(),
    actor: ACTOR,
    reason,
  });
}

async function checkWithTwilio(
  ctx: OtpContext,
  v: VerificationRow,
  code: string,
  t0: number,
): Promise<boolean> {
  if (!ctx.twilio || !v.provider_sid)
    throw unavailableError({
      ok: false,
      code: 'provider_not_configured',
      message: 'the Twilio Verify env is incomplete',
    });
  const c0 = performance.now();
  try {
    const deadline = providerDeadline(ctx, t0);
    if (!deadline) throw noTimeLeft('no time was left for the provider call within OTP_TIMEOUT_MS');
    const r = await ctx.twilio.check(v.provider_sid, code, deadline);
    ctx.checkMimic.record(performance.now() - c0, { ok: true });
    return r.valid;
  } catch (err) {
    const c = classifiedOf(err);
    // Twilio soft-deletes approved and expired verifications (20404) and stops at 5 checks (60202).
    if (c.code === 'twilio_20404' || c.code === 'twilio_60202') {
      const expired = c.code === 'twilio_20404';
      await ctx.db.tx(
        (q) =>
          settle(
            ctx,
            q,
            { id: v.id, tenantId: v.tenant_id },
            expired ? 'expired' : 'dead',
            `Twilio: ${c.code}`,
          ),
        { tenantId: v.tenant_id },
      );
      throw new AppError(
        'otp_expired',
        expired ? 'The verification expired; start again.' : 'Too many wrong codes; start again.',
      );
    }
    const outcome = providerFailure(c);
    if (c.code !== 'otp_deadline') ctx.checkMimic.record(performance.now() - c0, outcome);
    ctx.logger.warn(
      { tenant: v.tenant_id, verification: v.id, code: c.code },
      'otp check failed at the provider',
    );
    throw unavailableError(outcome);
  }
}

/** Why a verification takes no more checks (and, if it is still marked pending, settle it). */
async function spent(ctx: OtpContext, id: string, tenantId: string): Promise<AppError> {
  const v = await getVerification(ctx.db, id);
  if (!v) return new AppError('not_found', 'No such verification (start again).');
  if (v.status === 'approved') return new AppError('otp_expired', 'This code was already used; start again.');
  if (v.status === 'superseded')
    return new AppError('otp_expired', 'A newer code was sent to this phone; use the newest one.');
  const expired = v.status === 'expired' || (v.status === 'pending' && v.expires_at.getTime() <= ctx.now());
  if (v.status === 'pending') {
    await ctx.db.tx(
      (q) =>
        settle(
          ctx,
          q,
          { id, tenantId },
          expired ? 'expired' : 'dead',
          expired ? 'lifetime over' : 'check limit reached',
        ),
      { tenantId },
    );
  }
  if (expired)
    return new AppError(
      'otp_expired',
      `The verification expired (a code lives ${Math.round(ctx.config.env.OTP_TTL_S / 60)} min); start again.`,
    );
  return new AppError('otp_expired', `Too many wrong codes (at most ${v.max_checks}); start again.`);
}

async function wrongCode(ctx: OtpContext, v: VerificationRow): Promise<AppError> {
  const left = Math.max(0, v.max_checks - v.checks);
  await ctx.db.tx(
    async (q) => {
      if (left === 0) {
        await settle(ctx, q, { id: v.id, tenantId: v.tenant_id }, 'dead', 'check limit reached');
      } else {
        await appendAudit(q, [
          {
            tenantId: v.tenant_id,
            entity: 'otp',
            entityId: v.id,
            actor: ACTOR,
            action: 'check_failed',
            from: 'pending',
            to: 'pending',
            detail: { checks: v.checks },
          },
        ]);
      }
    },
    { tenantId: v.tenant_id },
  );
  const message =
    left === 0
      ? 'The code is wrong, and that was the last check; start again.'
      : `The code is wrong; ${left} check(s) left.`;
  return new AppError('otp_invalid_code', message, { details: { checksLeft: left } });
}

async function approve(ctx: OtpContext, v: VerificationRow): Promise<Session> {
  const session = await ctx.db.tx(
    async (q) => {
      if (!(await settle(ctx, q, { id: v.id, tenantId: v.tenant_id }, 'approved', 'code approved')))
        return null;
      // The owner is looked up again: a phone removed since the start signs nobody in.
      const owner = await findOwnerByPhone(q, v.tenant_id, v.phone);
      if (!owner) return 'no_owner' as const;
      return issueSession(q, {
        tenantId: v.tenant_id,
        ownerId: owner.owner_id,
        method: 'otp',
        nowMs: ctx.now(),
        ttlS: ctx.config.env.SESSION_TTL_S,
        actor: ACTOR,
        detail: { verification: v.id },
      });
    },
    { tenantId: v.tenant_id },
  );
  if (session === null) throw new AppError('otp_expired', 'This code was already used; start again.');
  if (session === 'no_owner')
    throw new AppError('forbidden', 'This phone is no longer an owner of the tenant.');
  ctx.logger.info({ tenant: v.tenant_id, verification: v.id }, 'owner signed in with OTP');
  return session;
}
