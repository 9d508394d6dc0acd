import { AppError } from '../core/errors.ts';
import type { OtpContext } from './context.ts';
import { unavailableError } from './errors.ts';

/*
 * Time budgets within OTP_TIMEOUT_MS, counted from the request's arrival: the answer leaves by
 * `answer`, and a provider call must end by `provider` so its outcome is recorded before the
 * answer is due. The answer's headroom (a third of the timeout, at most 750 ms) is for the timer
 * that enforces it: on a busy 2-core box it once fired ~300 ms late with a fifth (200 ms of 1 s).
 */

/** siteverify's own deadline: a third of OTP_TIMEOUT_MS, at most 3 s (Cloudflare answers in well under one). */
export function turnstileTimeoutMs(timeoutMs: number): number {
  return Math.min(3_000, Math.max(100, Math.floor(timeoutMs / 3)));
}
export function answerBudgetMs(timeoutMs: number): number {
  return timeoutMs - Math.min(750, Math.floor(timeoutMs / 3));
}
export function providerBudgetMs(timeoutMs: number): number {
  const answer = answerBudgetMs(timeoutMs);
  return answer - Math.min(250, Math.floor(timeoutMs / 10));
}

/** The lease of a row the request sends itself: past the answer, so only a dead process loses it. */
export function otpLeaseMs(timeoutMs: number): number {
  return timeoutMs + 60_000;
}

/**
 * The provider call's deadline, counted from the start of the request, not from the call; null
 * when the request has already used it up.
 */
export function providerDeadline(ctx: OtpContext, t0: number): AbortSignal | null {
  const left = Math.floor(providerBudgetMs(ctx.config.env.OTP_TIMEOUT_MS) - (performance.now() - t0));
  return left > 0 ? AbortSignal.timeout(left) : null;
}

/** Waits until `ms` after t0 (never past the provider budget): the decoy takes a provider's time. */
export async function sleepUntil(ctx: OtpContext, t0: number, ms: number): Promise<void> {
  const left = Math.min(ms, providerBudgetMs(ctx.config.env.OTP_TIMEOUT_MS)) - (performance.now() - t0);
  if (left > 0) await ctx.sleep(left);
}

/**
 * The answer comes within OTP_TIMEOUT_MS whatever the database or the event loop is doing: past
 * the deadline the caller gets otp_unavailable, and the work still running finishes on its own
 * (it makes no provider call once its own deadline has passed, and records its row).
 */
export async function answerInTime<T>(
  ctx: OtpContext,
  t0: number,
  what: 'start' | 'check',
  work: Promise<T>,
): Promise<T> {
  const timeoutMs = ctx.config.env.OTP_TIMEOUT_MS;
  const budget = answerBudgetMs(timeoutMs) - (performance.now() - t0);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), Math.max(0, budget));
  });
  const settled = work.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const first = await Promise.race([settled, late]);
  clearTimeout(timer);
  if (first !== 'late') {
    if ('error' in first) throw first.error;
    return first.value;
  }
  void settled.then((r) => {
    if ('error' in r && !(r.error instanceof AppError))
      ctx.logger.error({ err: ctx.redactor.scrub(String(r.error)) }, `otp ${what} failed after its answer`);
  });
  ctx.logger.warn({ what }, `otp ${what} answered at its deadline`);
  throw unavailableError({
    ok: false,
    code: 'otp_timeout',
    message: `the request did not finish within OTP_TIMEOUT_MS (${timeoutMs} ms)`,
  });
}
