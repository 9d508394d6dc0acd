import { AppError } from '../core/errors.ts';
import { ProviderError, type Classified } from '../providers/classify.ts';
import type { ProviderFailure } from './mimic.ts';

/** The refusal when OTP_MAX_STARTS_IN_FLIGHT starts are already in progress. */
export function busyError(timeoutMs: number): AppError {
  return new AppError(
    'otp_unavailable',
    'OTP cannot be sent now: too many sign-ins are in progress on this server (otp_busy). Nothing was queued; try again shortly.',
    {
      details: { reason: 'otp_busy' },
      headers: { 'retry-after': String(Math.ceil(timeoutMs / 1000)) },
    },
  );
}

/** A start refused by a fraud limit (see limits.ts). */
export function limitError(v: { rule: string; retryAfterS: number }): AppError {
  return new AppError(
    'rate_limited',
    `Too many codes requested (${v.rule.replace(/_/g, ' ')} limit); try again in ${v.retryAfterS} s.`,
    {
      headers: { 'retry-after': String(v.retryAfterS) },
      details: { limit: v.rule, retryAfterS: v.retryAfterS },
    },
  );
}

/** Thrown instead of calling the provider when the request has no time left for it. */
export function noTimeLeft(message: string): ProviderError {
  return new ProviderError({ class: 'retryable', code: 'otp_deadline', message });
}

/** The classification of whatever a provider call threw. */
export function classifiedOf(err: unknown): Classified {
  if (err instanceof ProviderError) return err.classified;
  return {
    class: 'retryable',
    code: 'otp_provider_error',
    message: 'unexpected error calling the OTP provider',
  };
}

/** Why the provider failed, in words the caller can act on. */
function failureMessage(c: Classified): string {
  if (c.code === 'otp_deadline') return 'the request ran out of time before the provider call';
  if (c.code === 'provider_uncertain' || /_(timeout|aborted)$/.test(c.code))
    return 'the OTP provider did not answer in time';
  if (/_(connection|dns|reset)$/.test(c.code)) return 'the OTP provider cannot be reached';
  if (c.class === 'rate_limited') return 'the OTP provider is rate-limiting requests';
  return 'the OTP provider refused the request';
}

/** A provider failure as the caller sees it (and as the decoy replays it). */
export function providerFailure(c: Classified): ProviderFailure {
  const failure: ProviderFailure = { ok: false, code: c.code, message: failureMessage(c) };
  if (c.retryAfterMs !== undefined) failure.retryAfterS = Math.max(1, Math.ceil(c.retryAfterMs / 1000));
  return failure;
}

export function unavailableError(o: ProviderFailure): AppError {
  return new AppError(
    'otp_unavailable',
    `OTP cannot be sent now: ${o.message} (${o.code}). Nothing was queued; try again later.`,
    {
      details: { reason: o.code },
      ...(o.retryAfterS !== undefined ? { headers: { 'retry-after': String(o.retryAfterS) } } : {}),
    },
  );
}
