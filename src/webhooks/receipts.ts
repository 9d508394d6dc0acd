import type { Queryable } from '../store/driver.ts';

// The receipt statements live in the store; this module is where the webhook code finds them.
export {
  claimReceipts,
  failReceipt,
  finishReceipt,
  pruneReceipts,
  storeReceipt,
  type ReceiptRow,
  type WebhookProvider,
} from '../store/sql/webhook-receipts.ts';

/** NOTIFY channel that wakes webhook processors when a delivery is stored. */
export const RECEIPTS_CHANNEL = 'webhook_receipts';

/**
 * Wakes the processors for a stored delivery: this process's at once, other processes through a
 * coalesced NOTIFY after commit (lazy: a lost or late wake-up only waits for the next poll).
 */
export function announceReceipt(q: Queryable, id: string): void {
  q.publish(RECEIPTS_CHANNEL, id, { lazy: true });
}
