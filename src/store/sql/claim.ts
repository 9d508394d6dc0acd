import type { Queryable } from '../driver.ts';
import { OUTBOX_COLUMNS, tenantFromJson, type OutboxRow, type TenantRow } from '../rows.ts';

/** A claimed row with its tenant as of the claim (the gate reads its opt-ins), in one round trip. */
export type ClaimedRow = OutboxRow & { from_status: string; tenant: TenantRow };

const CLAIMED_COLS = OUTBOX_COLUMNS.split(',')
  .map((c) => `o.${c.trim()}`)
  .join(', ');

/**
 * The end of every claim statement: takes the locked rows of the CTE `due` (id, from_status) to
 * `sending` under this worker's lease, writes each row's `claimed` audit event, and returns the rows
 * with their tenant. $3 is the worker, $4 the lease in ms.
 */
const TAKE_DUE = `upd AS (
       UPDATE outbox o SET status = 'sending', lease_owner = $3,
         lease_expires_at = now() + make_interval(secs => $4::float8 / 1000), attempts = o.attempts + 1, updated_at = now()
       FROM due WHERE o.id = due.id
       RETURNING ${CLAIMED_COLS}, due.from_status
     ), aud AS (
       INSERT INTO audit_events (tenant_id, entity, entity_id, actor, action, from_status, to_status, reason, detail)
       SELECT tenant_id, 'outbox', id::text, $3, 'claimed', from_status, 'sending', NULL,
         jsonb_build_object('attempt', attempts)
       FROM upd
     )
     SELECT upd.*, row_to_json(t.*) AS tenant FROM upd JOIN tenants t ON t.id = upd.tenant_id`;

/**
 * The row `o` is not held back by a provider's limit on its recipient (recipient_holds, written when
 * a provider answers "rate limited" about that recipient, e.g. WhatsApp 131056). Every claim path and
 * due probe tests it, so no dispatcher process sends to a held recipient; the rows keep their place
 * and are claimed once the hold ends.
 */
const NOT_HELD = `NOT EXISTS (SELECT 1 FROM recipient_holds rh
         WHERE rh.adapter = o.adapter AND rh.target = o.target AND rh.hold_until > now())`;

function withTenants(rows: ClaimedRow[]): ClaimedRow[] {
  for (const r of rows) r.tenant = tenantFromJson(r.tenant);
  return rows;
}

/**
 * Claims due rows of one adapter lane with a lease. SKIP LOCKED lets several dispatchers claim
 * side by side without waiting on each other; the audit event is written in the same statement.
 *
 * Fairness: the claim first finds every tenant with due rows (a skip scan over the
 * (adapter, tenant_id, next_attempt_at) index: one index probe per tenant, however many rows each
 * has queued), then takes the oldest rows of each tenant round-robin. A tenant that floods 5,000
 * rows gets one slot per round like everybody else, so its backlog cannot starve a quiet tenant.
 * Within a round, tenants with fewer rows already in flight on this lane go first: when a busy lane
 * frees one slot at a time, the quiet tenant's row takes it, not the flood's next one.
 *
 * Each tenant contributes a window of about 4 x limit / tenants candidates (at least one): enough
 * that up to four dispatchers claiming at the same moment find unlocked rows past each other's,
 * while the rows to sort stay near 4 x limit + tenants whatever the backlog. `excludeTenants` leaves
 * some tenants out (the lane's reserved slot is only for tenants with nothing in flight).
 */
export async function claimDue(
  q: Queryable,
  opts: {
    adapter: string;
    limit: number;
    worker: string;
    leaseMs: number;
    excludeTenants?: readonly string[];
  },
): Promise<ClaimedRow[]> {
  const res = await q.query<ClaimedRow>(
    `WITH RECURSIVE heads AS (
       (SELECT tenant_id FROM outbox
        WHERE adapter = $1 AND status IN ('ready', 'failed') AND next_attempt_at <= now()
        ORDER BY tenant_id LIMIT 1)
       UNION ALL
       SELECT (SELECT o.tenant_id FROM outbox o
               WHERE o.adapter = $1 AND o.status IN ('ready', 'failed') AND o.next_attempt_at <= now()
                 AND o.tenant_id > h.tenant_id
               ORDER BY o.tenant_id LIMIT 1)
       FROM heads h WHERE h.tenant_id IS NOT NULL
     ), in_flight AS MATERIALIZED (
       SELECT tenant_id, count(*) AS n FROM outbox WHERE adapter = $1 AND status = 'sending' GROUP BY tenant_id
     ), due_tenants AS MATERIALIZED (
       SELECT h.tenant_id, coalesce(f.n, 0) AS busy FROM heads h LEFT JOIN in_flight f ON f.tenant_id = h.tenant_id
       WHERE h.tenant_id IS NOT NULL AND NOT (h.tenant_id = ANY($5::text[]))
     ), win AS (
       SELECT greatest(1, ceil($2::int * 4.0 / greatest(count(*), 1)))::int AS n FROM due_tenants
     ), candidates AS (
       SELECT c.id, c.next_attempt_at, row_number() OVER (PARTITION BY t.tenant_id ORDER BY c.next_attempt_at) AS rn, t.busy
       FROM due_tenants t
       CROSS JOIN LATERAL (
         SELECT o.id, o.next_attempt_at FROM outbox o
         WHERE o.adapter = $1 AND o.tenant_id = t.tenant_id AND o.status IN ('ready', 'failed') AND o.next_attempt_at <= now()
           AND ${NOT_HELD}
         ORDER BY o.next_attempt_at
         LIMIT (SELECT n FROM win)
       ) c
     ), due AS (
       -- Lock row by row in round-robin order (a nested loop on the primary key, whatever the
       -- planner thinks of the candidate count) until the limit is met, skipping rows other
       -- dispatchers hold.
       SELECT l.id, l.from_status
       FROM (SELECT id, rn, busy, next_attempt_at FROM candidates ORDER BY rn, busy, next_attempt_at) c
       CROSS JOIN LATERAL (
         SELECT o.id, o.status AS from_status FROM outbox o
         WHERE o.id = c.id AND o.status IN ('ready', 'failed') AND o.next_attempt_at <= now()
         FOR UPDATE SKIP LOCKED
       ) l
       LIMIT $2
     ), ${TAKE_DUE}`,
    [opts.adapter, opts.limit, opts.worker, opts.leaseMs, opts.excludeTenants ?? []],
    { name: 'claim_due' },
  );
  return withTenants(res.rows);
}

/**
 * Claims the given rows, if they are still due and nobody holds them: a process that has just
 * stored an in_app row hands it to its own LAN lane this way, without the NOTIFY round trip and the
 * fairness scan of `claimDue` (the row is known).
 */
export async function claimByIds(
  q: Queryable,
  opts: { adapter: string; ids: readonly string[]; worker: string; leaseMs: number },
): Promise<ClaimedRow[]> {
  const res = await q.query<ClaimedRow>(
    `WITH due AS (
       SELECT o.id, o.status AS from_status FROM outbox o
       WHERE o.id = ANY($1::uuid[]) AND o.adapter = $2 AND o.status IN ('ready', 'failed') AND o.next_attempt_at <= now()
         AND ${NOT_HELD}
       ORDER BY o.created_at
       FOR UPDATE SKIP LOCKED
     ), ${TAKE_DUE}`,
    [opts.ids, opts.adapter, opts.worker, opts.leaseMs],
    { name: 'claim_by_ids' },
  );
  return withTenants(res.rows);
}

/** Of the given adapters, those with rows due now: one statement polls every lane of a dispatcher. */
export async function dueAdapters(q: Queryable, adapters: readonly string[]): Promise<string[]> {
  const r = await q.query<{ adapter: string }>(
    `SELECT a AS adapter FROM unnest($1::text[]) AS a
     WHERE EXISTS (SELECT 1 FROM outbox o
                   WHERE o.adapter = a AND o.status IN ('ready', 'failed') AND o.next_attempt_at <= now() AND ${NOT_HELD})`,
    [adapters],
    { name: 'due_adapters' },
  );
  return r.rows.map((x) => x.adapter);
}

/**
 * Whether the lane has any due row: a cheap probe (one index lookup, no writes) so idle lanes can
 * poll often without paying for the claim statement, which is mostly planning cost when empty.
 */
export async function anyDue(q: Queryable, adapter: string): Promise<boolean> {
  const r = await q.query<{ due: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM outbox o
       WHERE o.adapter = $1 AND o.status IN ('ready', 'failed') AND o.next_attempt_at <= now() AND ${NOT_HELD}) AS due`,
    [adapter],
    { name: 'any_due' },
  );
  return r.rows[0]?.due === true;
}
