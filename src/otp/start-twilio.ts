import { maskTarget } from '../core/redact.ts';
import type { OutboxRow } from '../store/rows.ts';
import { otpCompletion } from './completion.ts';
import type { OtpContext } from './context.ts';
import { providerDeadline } from './deadline.ts';
import { blockedError, isRangeBlock, rememberBlock } from './destination-blocks.ts';
import { classifiedOf, noTimeLeft, providerFailure, unavailableError } from './errors.ts';
import { finishOtpRow, type OtpRowInput } from './otp-row.ts';
import type { OtpPhone } from './phone.ts';
import { newVerification } from './start-records.ts';
import { recordVerification } from './verifications.ts';

/** An owner's live start: its claimed row, the verification id to answer with, and the caller's IP key. */
export interface TwilioStart {
  input: OtpRowInput;
  phone: OtpPhone;
  row: OutboxRow;
  vid: string;
  ownerId: string;
  ip: string;
}

/**
 * Sends the code through Twilio Verify within the request's deadline and records the outcome on
 * the claimed row; on success also the verification the check will use.
 */
export async function startWithTwilio(
  ctx: OtpContext,
  s: TwilioStart,
  t0: number,
): Promise<{ verificationId: string; status: 'pending' }> {
  const { input: i, row } = s;
  const client = ctx.twilio!;
  const request = ctx.redactor.scrubValue(client.createRequest(i.phone, i.locale));
  const startedAt = new Date();
  const c0 = performance.now();
  let sid: string;
  let status: string;
  try {
    // Queued behind other requests past the deadline: the caller has had its answer; no SMS now.
    const deadline = providerDeadline(ctx, t0);
    if (!deadline)
      throw noTimeLeft('no time was left for the provider call within OTP_TIMEOUT_MS (the service was busy)');
    ({ sid, status } = await client.start(i.phone, i.locale, deadline));
  } catch (err) {
    return failed(ctx, s, err, { request, startedAt, ms: performance.now() - c0 });
  }
  ctx.startMimic.record(performance.now() - c0, { ok: true });
  await ctx.db.tx(
    async (q) => {
      await finishOtpRow(
        q,
        ctx.worker,
        otpCompletion(row, {
          status: 'sent',
          reason: 'Twilio Verify accepted the verification',
          mode: 'live',
          outcome: 'sent',
          providerMessageId: sid,
          request,
          response: { sid, status },
          startedAt,
        }),
      );
      await recordVerification(
        q,
        newVerification(ctx, i, {
          vid: s.vid,
          ownerId: s.ownerId,
          method: 'twilio',
          providerSid: sid,
          ip: s.ip,
        }),
      );
    },
    { tenantId: i.tenantId },
  );
  ctx.logger.info({ tenant: i.tenantId, phone: maskTarget(i.phone), outbox: row.id }, 'otp started');
  return { verificationId: s.vid, status: 'pending' };
}

/** Records a failed provider call on the row and throws the caller's answer. */
async function failed(
  ctx: OtpContext,
  s: TwilioStart,
  err: unknown,
  a: { request: unknown; startedAt: Date; ms: number },
): Promise<never> {
  const { input: i, row } = s;
  const classified = classifiedOf(err);
  const destination = isRangeBlock(classified.providerCode);
  await ctx.finisher.finish(
    i.tenantId,
    otpCompletion(row, {
      status: destination ? (classified.finalStatus ?? 'dead') : 'blocked',
      reason: destination
        ? `the OTP provider refuses this destination (${classified.code}); not retried`
        : `OTP provider unavailable (${classified.code}); OTP is never queued`,
      mode: 'live',
      outcome: classified.class,
      errorCode: classified.code,
      errorMessage: classified.message,
      request: a.request,
      startedAt: a.startedAt,
    }),
  );
  ctx.logger.warn(
    {
      tenant: i.tenantId,
      phone: maskTarget(i.phone),
      outbox: row.id,
      code: classified.code,
      ms: Math.round(a.ms),
    },
    'otp start failed at the provider',
  );
  if (destination) {
    // From now on every start in the range gets this answer before the owner lookup. Failing to
    // remember it must not change this answer.
    await rememberBlock(ctx.db, s.phone, classified.providerCode!, ctx.now()).catch((e: unknown) =>
      ctx.logger.error({ err: ctx.redactor.scrub(String(e)) }, 'otp: could not remember a blocked range'),
    );
    throw blockedError(classified.providerCode!);
  }
  const outcome = providerFailure(classified);
  if (classified.code !== 'otp_deadline') ctx.startMimic.record(a.ms, outcome);
  throw unavailableError(outcome);
}
