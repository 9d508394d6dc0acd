import { describe, expect, it } from 'vitest';
import { deriveInternet, INTERNET_EVIDENCE_MS } from '../../src/core/internet.ts';

describe('the hub internet state', () => {
  const now = 10 * INTERNET_EVIDENCE_MS;
  const lane = (o: Partial<{ breakerOpen: boolean; lastSuccessAt: number; lastFailureAt: number }>) => ({
    breakerOpen: false,
    lastSuccessAt: 0,
    lastFailureAt: 0,
    ...o,
  });
  it('is unknown without online lanes or recent evidence', () => {
    expect(deriveInternet([], now)).toBe('unknown');
    expect(deriveInternet([lane({})], now)).toBe('unknown');
    expect(deriveInternet([lane({ lastSuccessAt: now - INTERNET_EVIDENCE_MS - 1 })], now)).toBe('unknown');
  });
  it('is up when some lane got an answer after its last failure', () => {
    expect(
      deriveInternet(
        [lane({ lastSuccessAt: now - 5 }), lane({ breakerOpen: true, lastFailureAt: now })],
        now,
      ),
    ).toBe('up');
  });
  it('is down when every lane with evidence is failing', () => {
    expect(deriveInternet([lane({ lastSuccessAt: now - 50, lastFailureAt: now - 5 })], now)).toBe('down');
    expect(
      deriveInternet([lane({ breakerOpen: true, lastSuccessAt: now - 1, lastFailureAt: now - 5 })], now),
    ).toBe('down');
    // An old open breaker still counts (it has not let a probe succeed).
    expect(deriveInternet([lane({ breakerOpen: true, lastFailureAt: 1 }), lane({})], now)).toBe('down');
  });
});
