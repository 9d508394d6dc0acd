/** Can the hub reach the internet? Derived from what its online lanes saw; no probe of its own. */
export type InternetState = 'up' | 'down' | 'unknown';

export interface OnlineLaneHealth {
  /** The circuit breaker is open: repeated transport failures. */
  breakerOpen: boolean;
  /** Wall-clock ms of the last provider answer (any answer, even a refusal), 0 = none. */
  lastSuccessAt: number;
  /** Wall-clock ms of the last transport failure (refused, timed out, unreachable), 0 = none. */
  lastFailureAt: number;
}

/** What a lane saw longer ago than this says nothing about the internet now. */
export const INTERNET_EVIDENCE_MS = 10 * 60_000;

/**
 * `up` when some online lane got an answer from its provider more recently than it last failed;
 * `down` when every lane with recent evidence is failing (breaker open, or its latest outcome a
 * transport failure); `unknown` without recent evidence (nothing sent lately, all dry-run, or no
 * dispatcher in this process).
 */
export function deriveInternet(lanes: readonly OnlineLaneHealth[], now: number): InternetState {
  const recent = lanes.filter(
    (l) => l.breakerOpen || Math.max(l.lastSuccessAt, l.lastFailureAt) > now - INTERNET_EVIDENCE_MS,
  );
  if (recent.length === 0) return 'unknown';
  if (recent.some((l) => !l.breakerOpen && l.lastSuccessAt > l.lastFailureAt)) return 'up';
  return 'down';
}
