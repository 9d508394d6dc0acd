import type { AdapterId } from '../core/channels.ts';
import type { Redactor } from '../core/redact.ts';
import type { ProviderAdapter } from './types.ts';

/** What readiness shows per adapter after an on-demand credential check. */
export interface VerificationRecord {
  at: string;
  ok: boolean;
  detail: string;
}

export interface VerificationOutcome extends VerificationRecord {
  adapter: AdapterId;
  errorCode: string | null;
}

export class VerifyUnsupportedError extends Error {}

const inflight = new Map<ProviderAdapter, Promise<VerificationOutcome>>();

/**
 * Runs an adapter's credential check (Telegram getMe, WhatsApp phone-number fetch, Twilio service
 * fetch, SMTP verify, Firebase key fetch). Only ever on demand: nothing calls this on a timer or at
 * start. Concurrent checks of one adapter share one call.
 */
export function runVerification(
  adapter: ProviderAdapter,
  timeoutMs: number,
  redactor: Redactor,
): Promise<VerificationOutcome> {
  const check = adapter.verify?.bind(adapter);
  if (!check) throw new VerifyUnsupportedError(`${adapter.id} has no credential check`);
  const running = inflight.get(adapter);
  if (running) return running;
  const p = (async (): Promise<VerificationOutcome> => {
    let r: Awaited<ReturnType<typeof check>>;
    try {
      r = await check(AbortSignal.timeout(timeoutMs));
    } catch (err) {
      r = {
        ok: false,
        errorCode: 'verify_failed',
        message: err instanceof Error ? err.message : String(err),
      };
    }
    const at = new Date().toISOString();
    return r.ok
      ? { adapter: adapter.id, at, ok: true, detail: redactor.scrub(r.detail), errorCode: null }
      : {
          adapter: adapter.id,
          at,
          ok: false,
          detail: redactor.scrub(`${r.errorCode}: ${r.message}`),
          errorCode: r.errorCode,
        };
  })().finally(() => inflight.delete(adapter));
  inflight.set(adapter, p);
  return p;
}
