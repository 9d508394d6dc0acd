import { AppError } from '../core/errors.ts';
import type { Queryable } from '../store/driver.ts';
import type { NewOutboxRow } from '../store/sql/enqueue.ts';
import { outboxByIdempotencyKey } from '../store/sql/outbox-read.ts';
import type { EnqueueResult } from './types.ts';

/**
 * The idempotency key was used before: the same message gets the stored row back, another message
 * is refused, and a key whose first request has not committed yet asks the caller to retry.
 */
export async function replayIdempotent(
  q: Queryable,
  tenantId: string,
  draft: NewOutboxRow,
): Promise<EnqueueResult> {
  const found = await outboxByIdempotencyKey(q, tenantId, draft.idempotencyKey);
  if (!found)
    throw new AppError('conflict', 'The idempotency key is being used by a request that has not finished.');
  if (found.request_hash !== draft.requestHash) {
    throw new AppError(
      'idempotency_conflict',
      'This idempotency key was already used with a different message.',
    );
  }
  return { row: found, created: false };
}
