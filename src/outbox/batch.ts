import { AppError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import type { TenantRow } from '../store/rows.ts';
import { prepareMessage } from './prepare.ts';
import type { EnqueueInput } from './schemas.ts';

/**
 * Validates every message of a batch before anything is written (all-or-nothing); the first bad
 * one is refused with its index.
 */
export function validateBatch(inputs: readonly EnqueueInput[], tenant: TenantRow, redactor: Redactor): void {
  inputs.forEach((m, i) => {
    try {
      prepareMessage(m, tenant, redactor);
    } catch (err) {
      if (err instanceof AppError) {
        throw new AppError(err.code, `messages[${i}]: ${err.message}`, { details: { index: i } });
      }
      throw err;
    }
  });
}
