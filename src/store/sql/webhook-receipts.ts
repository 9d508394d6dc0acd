import type { Queryable } from '../driver.ts';

export type WebhookProvider = 'whatsapp' | 'telegram';

export interface ReceiptRow {
  id: string;
  provider: WebhookProvider;
  body: string;
  received_at: Date;
  attempts: number;
}

/**
 * Stores one verified delivery (the "store" of store-then-process) in one short prepared statement.
 * A repeated delivery (same dedupe key) stores nothing and returns duplicate. There is no NOTIFY in
 * it: a NOTIFY takes PostgreSQL's global notification lock at commit, held through the WAL flush,
 * and that queue is exactly what the provider would wait in. The caller wakes the processors with
 * announceReceipt once it has answered.
 */
export async function storeReceipt(
  q: Queryable,
  r: { provider: WebhookProvider; dedupeKey: string; body: string },
): Promise<{ id: string | null; duplicate: boolean }> {
  const res = await q.query<{ id: string }>(
    `INSERT INTO webhook_receipts (provider, dedupe_key, body) VALUES ($1, $2, $3)
     ON CONFLICT (provider, dedupe_key) DO NOTHING RETURNING id::text`,
    [r.provider, r.dedupeKey, r.body],
    { name: 'webhook_receipt_store' },
  );
  const id = res.rows[0]?.id ?? null;
  return { id, duplicate: id === null };
}

/**
 * Claims pending deliveries with a lease: next_attempt_at moves past the lease, so a processor
 * that dies lets another take the row over once it lapses. SKIP LOCKED keeps processors in
 * several processes from waiting on each other.
 */
export async function claimReceipts(q: Queryable, limit: number, leaseMs: number): Promise<ReceiptRow[]> {
  const res = await q.query<ReceiptRow>(
    `UPDATE webhook_receipts SET next_attempt_at = now() + ($2::int * interval '1 millisecond'), attempts = attempts + 1
     WHERE id IN (SELECT id FROM webhook_receipts
                  WHERE processed_at IS NULL AND next_attempt_at <= now()
                  ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING id::text, provider, body, received_at, attempts`,
    [limit, leaseMs],
  );
  return res.rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Marks a delivery processed inside the transaction that applied it. False when another processor
 * finished it first (its lease had lapsed): the caller then rolls back its own work.
 */
export async function finishReceipt(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(
    `UPDATE webhook_receipts SET processed_at = now(), outcome = 'processed', last_error = NULL
     WHERE id = $1 AND processed_at IS NULL RETURNING id`,
    [id],
  );
  return r.rowCount > 0;
}

/** A failed processing attempt: retry after `delayMs`, or give up (outcome failed) when `final`. */
export async function failReceipt(
  q: Queryable,
  id: string,
  error: string,
  delayMs: number,
  final: boolean,
): Promise<void> {
  await q.query(
    `UPDATE webhook_receipts SET last_error = $2,
       next_attempt_at = now() + ($3::int * interval '1 millisecond'),
       processed_at = CASE WHEN $4::boolean THEN now() ELSE NULL END,
       outcome = CASE WHEN $4::boolean THEN 'failed' ELSE NULL END
     WHERE id = $1 AND processed_at IS NULL`,
    [id, error.slice(0, 500), delayMs, final],
  );
}

/** Deletes processed deliveries older than `olderThanMs` (their messages live on in inbound_messages). */
export async function pruneReceipts(q: Queryable, olderThanMs: number, limit = 1000): Promise<number> {
  const r = await q.query(
    `DELETE FROM webhook_receipts WHERE id IN (
       SELECT id FROM webhook_receipts
       WHERE processed_at IS NOT NULL AND processed_at < now() - ($1::bigint * interval '1 millisecond')
       LIMIT $2)`,
    [olderThanMs, limit],
  );
  return r.rowCount;
}

/** Makes claimed deliveries due again at once (a stopping processor hands back what it never started). */
export async function releaseReceipts(q: Queryable, ids: readonly string[]): Promise<void> {
  await q.query(
    'UPDATE webhook_receipts SET next_attempt_at = now() WHERE id = ANY($1::bigint[]) AND processed_at IS NULL',
    [ids],
  );
}
