import { randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import { maskTarget } from '../core/redact.ts';
import { gateFor } from '../outbox/gate-inputs.ts';
import type { Queryable } from '../store/driver.ts';
import type { TenantRow } from '../store/rows.ts';
import { getTenant } from '../store/tenants.ts';
import { clientIpKey } from './client-key.ts';
import { ACTOR, testNumbers, type OtpContext } from './context.ts';
import { answerInTime, sleepUntil, turnstileTimeoutMs } from './deadline.ts';
import { blockedError, findBlock } from './destination-blocks.ts';
import { busyError, limitError, unavailableError } from './errors.ts';
import { consumeStart, startRules } from './limits.ts';
import { insertBlockedOtpRow, type OtpRowInput } from './otp-row.ts';
import { findOwnerByPhone } from './owners.ts';
import { allowedDestination, parseOtpPhone, type OtpPhone } from './phone.ts';
import { claimLiveRow, newVerification, writeTestNumberStart } from './start-records.ts';
import { startWithTwilio } from './start-twilio.ts';
import { recordVerification } from './verifications.ts';

export interface StartInput {
  phone: string;
  tenant: string;
  /** The Cloudflare Turnstile token from the sign-in page (required when Turnstile is configured). */
  turnstileToken?: string | undefined;
}
export interface RequestInfo {
  ip: string;
  /** The hostname the request was sent to (no port): Turnstile's expected hostname when BACKEND_PUBLIC_URL is unset. */
  host?: string | null;
  /** How long ago the request arrived (ms): the deadline counts from then, not from the handler. */
  elapsedMs?: number;
}
export type Started = { verificationId: string; status: 'pending' };

const NOT_AN_OWNER =
  'not an owner phone of this tenant: no SMS was sent (the caller got the same answer as an owner)';

/** Sends a sign-in code: admission, the human check, limits, then the owner's SMS or the decoy. */
export async function startOtp(ctx: OtpContext, input: StartInput, req: RequestInfo): Promise<Started> {
  let t0 = performance.now() - (req.elapsedMs ?? 0);
  const release = ctx.admission.enter();
  if (!release) throw busyError(ctx.config.env.OTP_TIMEOUT_MS);
  if (ctx.turnstile.enabled) {
    // The human check comes first: a refused start counts no limit, writes no row, calls no provider.
    try {
      await ctx.turnstile.verify(
        { token: input.turnstileToken, remoteIp: req.ip, requestHost: req.host ?? null },
        turnstileTimeoutMs(ctx.config.env.OTP_TIMEOUT_MS),
      );
    } catch (err) {
      release();
      throw err;
    }
    // It had its own deadline; the OTP deadline counts from here.
    t0 = performance.now();
  }
  // The place is held until the work settles, not until the answer: work still running after
  // its answer (see answerInTime) keeps counting, so a hanging provider cannot pile it up.
  const work = startWork(ctx, input, req, t0);
  void work.then(release, release);
  return answerInTime(ctx, t0, 'start', work);
}

/** The otp_busy refusal when the cap is already reached (see StartAdmission.refuseEarly), else null. */
export function shedStart(ctx: OtpContext): AppError | null {
  return ctx.admission.refuseEarly() ? busyError(ctx.config.env.OTP_TIMEOUT_MS) : null;
}

async function startWork(ctx: OtpContext, input: StartInput, req: RequestInfo, t0: number): Promise<Started> {
  const numbers = testNumbers(ctx);
  const phone = parseOtpPhone(input.phone, numbers);
  const ip = clientIpKey(req.ip);
  const testCode = numbers.get(phone.e164);
  const decoy = ctx.startMimic.next();
  // The verification id is the caller's handle; the outbox row (which owners can list) has its own.
  const vid = randomUUID();
  const outboxId = randomUUID();
  const nowMs = ctx.now();
  // Both transactions under one database slot: a request that got in finishes its writes before
  // the next begins, so under a flood the first requests reach the provider in time.
  const started = await ctx.db.holding(async (raw) => {
    const first = await raw.tx((q) => admit(ctx, q, input.tenant, phone, ip, nowMs), {
      tenantId: input.tenant,
    });
    if (first.kind === 'stopped') return first;
    const { tenant } = first;
    // Then, in one transaction, who the phone belongs to and the row that follows from it.
    const rowInput: OtpRowInput = {
      id: outboxId,
      tenantId: tenant.id,
      adapter: 'twilio_verify',
      phone: phone.e164,
      locale: tenant.locale,
      nowMs,
      ttlS: ctx.config.env.OTP_TTL_S,
      reason: '',
      actor: ACTOR,
    };
    const refusal = gateRefusal(ctx, tenant);
    const plan = await raw.tx(
      async (q) => {
        const owner = await findOwnerByPhone(q, tenant.id, phone.e164);
        if (testCode !== undefined && owner) {
          await writeTestNumberStart(ctx, q, rowInput, { vid, ownerId: owner.owner_id, ip });
          return { kind: 'test_number' as const };
        }
        if (refusal) {
          await insertBlockedOtpRow(q, { ...rowInput, reason: refusal });
          return { kind: 'refused' as const };
        }
        if (!owner) {
          await insertBlockedOtpRow(q, { ...rowInput, reason: NOT_AN_OWNER });
          if (decoy.outcome.ok)
            await recordVerification(
              q,
              newVerification(ctx, rowInput, { vid, ownerId: null, method: 'decoy', providerSid: null, ip }),
            );
          return { kind: 'decoy' as const };
        }
        const row = await claimLiveRow(ctx, q, rowInput);
        return { kind: 'twilio' as const, row, ownerId: owner.owner_id };
      },
      { tenantId: tenant.id },
    );
    return { kind: 'planned' as const, tenant, rowInput, refusal, plan };
  });
  if (started.kind === 'stopped') {
    // A limit, or a range the provider refuses: nothing was written, no provider call.
    ctx.logger.info(
      {
        tenant: input.tenant,
        phone: maskTarget(phone.e164),
        error: started.error.code,
        reason: started.error.details,
      },
      'otp start refused before the owner lookup',
    );
    throw started.error;
  }
  const { tenant, rowInput, refusal, plan } = started;
  switch (plan.kind) {
    case 'test_number':
      return { verificationId: vid, status: 'pending' };
    case 'refused':
      ctx.logger.info(
        { tenant: tenant.id, phone: maskTarget(phone.e164), reason: refusal },
        'otp start refused: unavailable',
      );
      throw new AppError('otp_unavailable', `OTP cannot be sent: ${refusal}.`, {
        details: { reason: refusal },
      });
    case 'decoy':
      // A phone that is not an owner of the tenant: no SMS is sent (nobody gets a code they cannot
      // use, and nobody can pump SMS through us to arbitrary numbers), but the answer is the one an
      // owner would get — same status, same body, about the same time, the same failure while the
      // provider is failing — so the API cannot be used to find out which phones are owners.
      await sleepUntil(ctx, t0, decoy.ms);
      ctx.logger.info(
        { tenant: tenant.id, phone: maskTarget(phone.e164), outbox: rowInput.id },
        'otp start for a phone that is not an owner',
      );
      if (!decoy.outcome.ok) throw unavailableError(decoy.outcome);
      return { verificationId: vid, status: 'pending' };
    case 'twilio':
      return startWithTwilio(
        ctx,
        { input: rowInput, phone, row: plan.row, vid, ownerId: plan.ownerId, ip },
        t0,
      );
  }
}

/**
 * The tenant, its allow-list and the limits: a short transaction, the only part that is serialised
 * (per key) across requests and processes. Refused here, nothing else is written.
 */
async function admit(
  ctx: OtpContext,
  q: Queryable,
  tenantId: string,
  phone: OtpPhone,
  ip: string,
  nowMs: number,
): Promise<{ kind: 'stopped'; error: AppError } | { kind: 'admitted'; tenant: TenantRow }> {
  const tenant = await getTenant(q, tenantId);
  if (!tenant) throw new AppError('not_found', `No tenant "${tenantId}".`);
  if (!allowedDestination(phone.e164, tenant.otp_allowed_prefixes)) {
    throw new AppError(
      'destination_not_allowed',
      `OTP can be sent only to numbers starting with ${tenant.otp_allowed_prefixes.join(', ')} for this tenant.`,
    );
  }
  // A range Twilio is known to refuse: the same 403 for owners and strangers, nothing counted.
  const blocked = await findBlock(q, phone, nowMs);
  if (blocked !== null) return { kind: 'stopped', error: blockedError(blocked) };
  const verdict = await consumeStart(
    q,
    startRules(ctx.config.env, { phone: phone.e164, ip, tenant: tenant.id, dialCode: phone.dialCode }),
    nowMs,
  );
  if (!verdict.ok) return { kind: 'stopped', error: limitError(verdict) };
  return { kind: 'admitted', tenant };
}

/** Why the live provider may not be used now, or null when every live-send condition holds. */
function gateRefusal(ctx: OtpContext, tenant: TenantRow): string | null {
  if (ctx.config.env.OTP_PROVIDER === 'firebase') {
    return 'OTP_PROVIDER is firebase: the phone signs in with the Firebase client SDK, then POST /api/v1/auth/firebase';
  }
  const decision = gateFor(ctx.config, ctx.registry.get('twilio_verify'), tenant.opt_ins, 'otp_sms');
  if (decision.kind === 'allow_live' && ctx.twilio) return null;
  if (decision.kind === 'dry_run')
    return `${decision.reason}; an OTP cannot be dry-run, and OTP is never queued`;
  if (decision.kind === 'allow_live') return 'the Twilio Verify env is incomplete; OTP is never queued';
  return decision.reason;
}
