import { describe, expect, it } from 'vitest';
import { STATUSES, assertTransition, canTransition, isForwardProgress } from '../../src/core/status.ts';
import { AppError } from '../../src/core/errors.ts';

describe('outbox statuses', () => {
  it('creation enters only queued, ready, blocked or expired', () => {
    expect(STATUSES.filter((s) => canTransition('new', s))).toEqual([
      'queued',
      'ready',
      'blocked',
      'expired',
    ]);
  });

  it('an illegal transition is an error with a stable code, never a silent write', () => {
    expect(() => assertTransition('mock_sent', 'sending')).toThrow(AppError);
    try {
      assertTransition('cancelled', 'ready');
    } catch (e) {
      expect((e as AppError).code).toBe('invalid_transition');
      expect((e as AppError).status).toBe(409);
    }
  });

  it('final statuses have no way out', () => {
    for (const s of ['mock_sent', 'read', 'cancelled'] as const) {
      expect(STATUSES.filter((t) => canTransition(s, t))).toEqual([]);
    }
  });

  it('the dispatcher path ready → sending → sent → delivered → read is allowed', () => {
    expect(canTransition('ready', 'sending')).toBe(true);
    expect(canTransition('sending', 'sent')).toBe(true);
    expect(canTransition('sent', 'delivered')).toBe(true);
    expect(canTransition('delivered', 'read')).toBe(true);
    expect(canTransition('read', 'delivered')).toBe(false);
  });

  it('provider reports never move a row backwards', () => {
    expect(isForwardProgress('delivered', 'sent')).toBe(false);
    expect(isForwardProgress('read', 'delivered')).toBe(false);
    expect(isForwardProgress('sent', 'read')).toBe(true);
    expect(isForwardProgress('mock_sent', 'delivered')).toBe(false);
  });
});
