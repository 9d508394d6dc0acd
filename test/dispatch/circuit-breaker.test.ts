import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/dispatch/circuit-breaker.ts';
import { RateLimitTracker } from '../../src/dispatch/rate-limits.ts';

describe('circuit breaker', () => {
  const make = () => {
    const clock = { t: 0 };
    return { clock, breaker: new CircuitBreaker(3, 1_000, () => clock.t) };
  };

  it('stays closed below the threshold, and a success resets the count', () => {
    const { breaker } = make();
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.isOpen).toBe(false);
    expect(breaker.allowance()).toBe(Infinity);
    breaker.onSuccess();
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.isOpen).toBe(false);
  });

  it('opens after the threshold, lets one probe through after the cooldown, closes on its success', () => {
    const { clock, breaker } = make();
    for (let i = 0; i < 3; i++) breaker.onFailure();
    expect(breaker.isOpen).toBe(true);
    expect(breaker.allowance()).toBe(0);
    clock.t = 999;
    expect(breaker.allowance()).toBe(0);
    clock.t = 1_000;
    expect(breaker.allowance()).toBe(1);
    breaker.onStart();
    expect(breaker.allowance()).toBe(0);
    breaker.onSuccess();
    expect(breaker.isOpen).toBe(false);
    expect(breaker.allowance()).toBe(Infinity);
  });

  it('a failed probe opens it for another cooldown', () => {
    const { clock, breaker } = make();
    for (let i = 0; i < 3; i++) breaker.onFailure();
    clock.t = 1_000;
    breaker.onStart();
    breaker.onFailure();
    expect(breaker.allowance()).toBe(0);
    clock.t = 1_999;
    expect(breaker.allowance()).toBe(0);
    clock.t = 2_000;
    expect(breaker.allowance()).toBe(1);
  });
});

describe('rate-limit tracker', () => {
  it('one limited recipient delays only its row; two at once pause the lane', () => {
    const t = new RateLimitTracker();
    expect(t.note('+994501', 5_000, 0)).toBeNull();
    expect(t.note('+994501', 5_000, 100)).toBeNull();
    expect(t.note('+994502', 2_000, 200)).toBe(2_200);
  });

  it('forgets a recipient once its wait is over', () => {
    const t = new RateLimitTracker();
    t.note('a', 1_000, 0);
    expect(t.note('b', 1_000, 1_000)).toBeNull();
  });
});
