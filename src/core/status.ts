import { AppError } from './errors.ts';

export const STATUSES = [
  'queued',
  'ready',
  'sending',
  'mock_sent',
  'sent',
  'delivered',
  'read',
  'failed',
  'dead',
  'blocked',
  'expired',
  'cancelled',
] as const;
export type Status = (typeof STATUSES)[number];

export function isStatus(v: unknown): v is Status {
  return typeof v === 'string' && (STATUSES as readonly string[]).includes(v);
}

/**
 * Allowed transitions. `null` is the creation of a row. Anything not listed is an illegal
 * transition and raises; the store never writes it.
 */
const ALLOWED: Record<Status | 'new', readonly Status[]> = {
  new: ['queued', 'ready', 'blocked', 'expired'],
  queued: ['ready', 'blocked', 'cancelled', 'expired', 'queued'],
  ready: ['sending', 'queued', 'blocked', 'cancelled', 'expired'],
  sending: ['mock_sent', 'sent', 'delivered', 'failed', 'dead', 'ready', 'blocked', 'expired', 'queued'],
  failed: ['sending', 'ready', 'dead', 'cancelled', 'expired', 'queued', 'blocked'],
  mock_sent: [],
  sent: ['delivered', 'read', 'failed', 'dead'],
  delivered: ['read'],
  read: [],
  // A retry from the panel moves dead/blocked/expired rows back to ready.
  dead: ['ready'],
  blocked: ['ready', 'queued', 'cancelled'],
  expired: ['ready'],
  cancelled: [],
};

export function canTransition(from: Status | 'new', to: Status): boolean {
  return ALLOWED[from].includes(to);
}

export function assertTransition(from: Status | 'new', to: Status): void {
  if (!canTransition(from, to)) {
    throw new AppError('invalid_transition', `An outbox row cannot move from ${from} to ${to}.`, {
      details: { from, to },
    });
  }
}

export const TERMINAL: readonly Status[] = ['mock_sent', 'read', 'dead', 'expired', 'cancelled'];
/** Statuses where the work of this service is done (the provider may still report progress). */
export const SETTLED: readonly Status[] = [
  'mock_sent',
  'sent',
  'delivered',
  'read',
  'dead',
  'blocked',
  'expired',
  'cancelled',
];

/** Progress order of provider status reports: a report never moves a row backwards. */
const PROGRESS: Partial<Record<Status, number>> = { sending: 0, sent: 1, delivered: 2, read: 3 };
export function isForwardProgress(from: Status, to: Status): boolean {
  const a = PROGRESS[from];
  const b = PROGRESS[to];
  if (a === undefined || b === undefined) return false;
  return b > a;
}

export const RETRYABLE_BY_OWNER: readonly Status[] = ['failed', 'dead', 'blocked', 'expired', 'queued'];
export const CANCELLABLE: readonly Status[] = ['queued', 'ready', 'failed', 'blocked'];
