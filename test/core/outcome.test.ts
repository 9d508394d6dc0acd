import { describe, expect, it } from 'vitest';
import type { GateDecision } from '../../src/core/gate.ts';
import {
  PACED_RETRY_ALLOWANCE,
  verdictAfterSend,
  verdictBeforeSend,
  verdictReleased,
  verdictTenantGone,
  type AttemptAnswer,
  type OutcomeRow,
} from '../../src/core/outcome.ts';

const now = new Date('2026-12-07T12:00:00Z');
const row = (over: Partial<OutcomeRow> = {}): OutcomeRow => ({
  channel: 'whatsapp',
  attempts: 1,
  max_attempts: 5,
  expires_at: null,
  ...over,
});
const policy = { backoff: { baseMs: 1_000, capMs: 60_000 }, random: () => 0.5 };
const live: GateDecision = { kind: 'allow_live', reason: 'every live-send condition holds' };

describe('outcome policy: before the send', () => {
  it('a deleted tenant is dead at once', () => {
    expect(verdictTenantGone()).toMatchObject({
      status: 'dead',
      outcome: 'permanent',
      errorCode: 'no_tenant',
    });
  });

  it('a row past its time to live expires, whatever the gate says', () => {
    const expired = row({ expires_at: new Date(now.getTime() - 1) });
    for (const kind of ['allow_live', 'dry_run', 'queue', 'block'] as const) {
      const d = { kind, reason: 'r', missing: [] } as GateDecision;
      expect(verdictBeforeSend(expired, d, now)?.status).toBe('expired');
    }
    expect(verdictBeforeSend(row({ expires_at: new Date(now.getTime() + 1) }), live, now)).toBeNull();
  });

  it.each([
    ['queue', 'queued'],
    ['block', 'blocked'],
    ['dry_run', 'mock_sent'],
  ] as const)('gate %s gives %s with the gate reason', (kind, status) => {
    const v = verdictBeforeSend(row(), { kind, reason: `because ${kind}`, missing: [] }, now);
    expect(v).toMatchObject({ status, outcome: status, reason: `because ${kind}`, nextAttemptAt: null });
  });

  it('an allowed row goes to the adapter', () => {
    expect(verdictBeforeSend(row(), live, now)).toBeNull();
  });
});

describe('outcome policy: after the send', () => {
  const fail = (outcome: 'retryable' | 'permanent' | 'rate_limited', extra = {}): AttemptAnswer => ({
    outcome,
    errorCode: 'E1',
    errorMessage: 'boom',
    ...extra,
  });

  it('accepted by the provider, or handed to the LAN hub', () => {
    expect(
      verdictAfterSend(row(), { outcome: 'sent', providerMessageId: 'wamid.1' }, 'live', policy, now),
    ).toMatchObject({
      status: 'sent',
      reason: 'accepted by the provider',
      providerMessageId: 'wamid.1',
    });
    expect(
      verdictAfterSend(
        row({ channel: 'in_app' }),
        { outcome: 'delivered', providerMessageId: null },
        'lan',
        policy,
        now,
      ),
    ).toMatchObject({ status: 'delivered', reason: 'handed to the LAN hub' });
  });

  it('a permanent error is dead, or the final status the adapter names', () => {
    expect(verdictAfterSend(row(), fail('permanent'), 'live', policy, now)).toMatchObject({
      status: 'dead',
      reason: 'E1: boom',
      errorCode: 'E1',
      nextAttemptAt: null,
    });
    expect(
      verdictAfterSend(row(), fail('permanent', { finalStatus: 'expired' }), 'live', policy, now).status,
    ).toBe('expired');
  });

  it('OTP is never retried later: a retryable or rate-limited failure blocks it', () => {
    for (const o of ['retryable', 'rate_limited'] as const) {
      const v = verdictAfterSend(row({ channel: 'otp_sms' }), fail(o), 'live', policy, now);
      expect(v).toMatchObject({ status: 'blocked', outcome: o, nextAttemptAt: null });
      expect(v.reason).toMatch(/^OTP is online only/);
    }
  });

  it('the last attempt is dead with the last error', () => {
    const v = verdictAfterSend(row({ attempts: 5 }), fail('retryable'), 'live', policy, now);
    expect(v).toMatchObject({ status: 'dead', reason: 'attempts exhausted (5); last error E1: boom' });
  });

  it('a retryable failure backs off exponentially with jitter, within bounds', () => {
    for (let attempt = 1; attempt <= 4; attempt++) {
      const exp = Math.min(60_000, 1_000 * 2 ** (attempt - 1));
      for (const r of [0, 0.999]) {
        const v = verdictAfterSend(
          row({ attempts: attempt }),
          fail('retryable'),
          'live',
          { ...policy, random: () => r },
          now,
        );
        const wait = v.nextAttemptAt!.getTime() - now.getTime();
        expect(v.status).toBe('failed');
        expect(wait).toBeGreaterThanOrEqual(exp / 2);
        expect(wait).toBeLessThanOrEqual(exp);
      }
    }
  });

  it("a retryable failure honours a provider's requested wait as a floor", () => {
    const v = verdictAfterSend(row(), fail('retryable', { retryAfterMs: 30_000 }), 'live', policy, now);
    expect(v.status).toBe('failed');
    expect(v.nextAttemptAt!.getTime() - now.getTime()).toBe(30_000);
    expect(v.reason).toBe('E1: boom; retry in 30 s');
  });

  it("a rate limit retries at the provider's pace: its wait plus at most 10 % (1 s) jitter, not exponential", () => {
    for (const [attempts, r] of [
      [1, 0],
      [4, 0.5],
      [4, 1],
    ] as const) {
      const p = { ...policy, random: () => r };
      const v = verdictAfterSend(
        row({ attempts }),
        fail('rate_limited', { retryAfterMs: 6_000 }),
        'live',
        p,
        now,
      );
      expect(v.status).toBe('failed');
      expect(v.nextAttemptAt!.getTime() - now.getTime()).toBe(6_000 + r * 600);
    }
    const long = verdictAfterSend(row(), fail('rate_limited', { retryAfterMs: 30_000 }), 'live', policy, now);
    expect(long.nextAttemptAt!.getTime() - now.getTime()).toBe(30_500);
  });

  it('a rate limit does not use up the attempts; only the paced allowance beyond them does', () => {
    const limited = fail('rate_limited', { retryAfterMs: 2_000 });
    expect(verdictAfterSend(row({ attempts: 5 }), limited, 'live', policy, now).status).toBe('failed');
    expect(
      verdictAfterSend(row({ attempts: 5 + PACED_RETRY_ALLOWANCE - 1 }), limited, 'live', policy, now).status,
    ).toBe('failed');
    expect(
      verdictAfterSend(row({ attempts: 5 + PACED_RETRY_ALLOWANCE }), limited, 'live', policy, now),
    ).toMatchObject({
      status: 'dead',
      reason: `attempts exhausted (${5 + PACED_RETRY_ALLOWANCE}); last error E1: boom`,
    });
    // A retryable failure after many paced retries still ends at max_attempts.
    expect(verdictAfterSend(row({ attempts: 6 }), fail('retryable'), 'live', policy, now).status).toBe(
      'dead',
    );
  });
});

describe('outcome policy: released at shutdown', () => {
  it('is due again at once, or dead without attempts left', () => {
    expect(verdictReleased(row(), 'stopping', now)).toMatchObject({
      status: 'failed',
      outcome: 'released',
      errorCode: 'dispatcher_stopped',
      nextAttemptAt: now,
    });
    expect(verdictReleased(row({ attempts: 5 }), 'stopping', now)).toMatchObject({
      status: 'dead',
      reason: 'stopping; attempts exhausted (5)',
      nextAttemptAt: null,
    });
  });
});

describe('Backoff', () => {
  it('grows exponentially with jitter within [exp/2, exp], capped, and starts over after reset', async () => {
    const { Backoff } = await import('../../src/core/backoff.ts');
    for (const r of [0, 0.5, 0.999]) {
      const b = new Backoff({ baseMs: 100, capMs: 1_000 }, () => r);
      const waits = [1, 2, 3, 4, 5, 6].map(() => b.next());
      [100, 200, 400, 800, 1_000, 1_000].forEach((exp, i) => {
        expect(waits[i]).toBeGreaterThanOrEqual(exp / 2);
        expect(waits[i]).toBeLessThanOrEqual(exp);
      });
      b.reset();
      expect(b.next()).toBeLessThanOrEqual(100);
    }
    const spread = new Set(
      Array.from({ length: 20 }, () => new Backoff({ baseMs: 1_000, capMs: 1_000 }).next()),
    );
    expect(spread.size).toBeGreaterThan(1);
  });
});
