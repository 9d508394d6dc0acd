import type { Db, Queryable } from '../driver.ts';
import { OUTBOX_COLUMNS, type OutboxRow } from '../rows.ts';
import { publishChanges } from './notify.ts';

export interface NewOutboxRow {
  id: string;
  tenantId: string;
  channel: string;
  adapter: string;
  target: string;
  title: string | null;
  subject: string | null;
  body: string | null;
  template: string | null;
  data: unknown;
  locale: string | null;
  source: string;
  status: string;
  reason: string | null;
  mode: string | null;
  idempotencyKey: string | null;
  requestHash: string;
  sendAt: Date;
  expiresAt: Date | null;
  maxAttempts: number;
  actor: string;
}

// send_at comes from the API process's clock, read before the statement ran, so it is a little
// before or after now(): compare with the clock itself, allowing a second of skew between hosts (an
// early wake-up finds nothing and costs one probe; a missed one costs a poll).
const DUE = `(status = 'ready' AND send_at <= clock_timestamp() + interval '1 second') AS _due`;

const INSERT_SQL = `SELECT ${OUTBOX_COLUMNS}, ${DUE}
   FROM enqueue_outbox($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`;

const SETTLE_SQL = `SELECT ${OUTBOX_COLUMNS}, ${DUE} FROM outbox WHERE id = $1`;

/**
 * The device inbox entries of a stored row that is due now, as [device, seq] pairs, written in the
 * same statement (see InboxAtEnqueue). CASE: the writer runs only for due in_app rows.
 */
const lanEntries = (hub: string) => `CASE WHEN r._due AND r.channel = 'in_app' THEN (
     SELECT coalesce(json_agg(json_build_array(a.r_device, a.r_seq)), '[]'::json)
     FROM lan_append_inbox(${hub}::text, NULL::text, jsonb_build_array(jsonb_build_object(
       'ord', 0, 'outbox_id', r.id, 'tenant', r.tenant_id, 'target', r.target, 'created_at', r.created_at))) a
     WHERE a.r_seq IS NOT NULL) END AS _lan`;

const INSERT_LAN_SQL = `WITH r AS MATERIALIZED (${INSERT_SQL})
   SELECT r.*, ${lanEntries('$22')} FROM r`;

function insertParams(r: NewOutboxRow): unknown[] {
  return [
    r.id,
    r.tenantId,
    r.channel,
    r.adapter,
    r.target,
    r.title,
    r.subject,
    r.body,
    r.template,
    r.data === undefined || r.data === null ? null : JSON.stringify(r.data),
    r.locale,
    r.source,
    r.status,
    r.reason,
    r.mode,
    r.idempotencyKey,
    r.requestHash,
    r.sendAt,
    r.expiresAt,
    r.maxAttempts,
    r.actor,
  ];
}

type Inserted = OutboxRow & { _due?: boolean; _lan?: [string, number | string][] | null };

/** A device inbox entry written in the enqueue statement itself. */
export interface WrittenEntry {
  deviceId: string;
  seq: number;
}

/**
 * Set when this process runs the LAN hub: a due in_app row gets its device inbox entries in the
 * statement that stores it (one commit; `lan_append_inbox`, migration 0015), and `written` is told
 * right after that commit, so the hub pushes to the screens at once instead of after a dispatcher
 * claimed the row. The row itself then goes through its lifecycle as any other (claimed, sent,
 * delivered); its delivery finds the entries and adds none. `entries` is null when the answer was
 * lost and the row was read back (the entries are stored; the hub re-reads its sockets' inboxes).
 */
export interface InboxAtEnqueue {
  hubId: string;
  written(row: OutboxRow, entries: WrittenEntry[] | null): void;
}

/**
 * Offered each stored row that is due now: true when this process takes it over itself (a lane of
 * this process after the commit, see Lane.adopt; or the caller, claiming it in the same
 * transaction), so no dispatcher needs waking for it.
 */
export type HandOff = (row: OutboxRow) => boolean;

function announceAll(
  q: Queryable,
  rows: readonly Inserted[],
  handOff?: HandOff | null,
  inbox?: InboxAtEnqueue | null,
): OutboxRow[] {
  const out: OutboxRow[] = [];
  const changed: (OutboxRow & { due: boolean })[] = [];
  for (const { _due, _lan, ...row } of rows) {
    out.push(row);
    if (inbox && _due === true && row.channel === 'in_app') {
      inbox.written(
        row,
        _lan === undefined ? null : (_lan ?? []).map(([deviceId, seq]) => ({ deviceId, seq: Number(seq) })),
      );
    }
    changed.push({ ...row, due: _due === true && !handOff?.(row) });
  }
  publishChanges(q, changed);
  return out;
}

/**
 * Inserts one row with its creation audit event and the dispatcher wake-up inside the caller's
 * transaction (see `enqueue_outbox`). Returns null when the idempotency key already exists.
 */
export async function insertOutboxRow(
  q: Queryable,
  r: NewOutboxRow,
  handOff?: HandOff | null,
): Promise<OutboxRow | null> {
  const res = await q.query<Inserted>(INSERT_SQL, insertParams(r), { name: 'enqueue_outbox' });
  return announceAll(q, res.rows, handOff)[0] ?? null;
}

/**
 * The same as one statement in its own transaction: one round trip. If the connection breaks before
 * the answer, the row's id tells afterwards whether it was stored. Returns null when the idempotency
 * key already exists.
 */
export async function insertOutboxRowAlone(
  db: Db,
  r: NewOutboxRow,
  handOff?: HandOff | null,
  inbox?: InboxAtEnqueue | null,
): Promise<OutboxRow | null> {
  const lan = inbox && r.channel === 'in_app';
  const res = await db.atomic<Inserted>(
    lan ? INSERT_LAN_SQL : INSERT_SQL,
    lan ? [...insertParams(r), inbox.hubId] : insertParams(r),
    {
      name: lan ? 'enqueue_outbox_lan' : 'enqueue_outbox',
      settle: (q) => q.query<Inserted>(SETTLE_SQL, [r.id]),
    },
  );
  return announceAll(db, res.rows, handOff, inbox)[0] ?? null;
}

const INSERT_MANY_SQL = `SELECT ${OUTBOX_COLUMNS}, ${DUE} FROM enqueue_outbox_many($1, $2::jsonb)`;
const SETTLE_MANY_SQL = `SELECT ${OUTBOX_COLUMNS}, ${DUE} FROM outbox WHERE id = ANY($1::uuid[])`;

/** The same with inbox entries; rows are written in the order they were submitted ($4, their ids). */
const INSERT_MANY_LAN_SQL = `WITH r AS MATERIALIZED (${INSERT_MANY_SQL})
   SELECT r.*, ${lanEntries('$3')}
   FROM (SELECT * FROM r ORDER BY array_position($4::uuid[], r.id)) r`;

function manyRow(r: NewOutboxRow): Record<string, unknown> {
  return {
    id: r.id,
    channel: r.channel,
    adapter: r.adapter,
    target: r.target,
    title: r.title,
    subject: r.subject,
    body: r.body,
    template: r.template,
    data: r.data ?? null,
    locale: r.locale,
    source: r.source,
    status: r.status,
    reason: r.reason,
    mode: r.mode,
    idempotency_key: r.idempotencyKey,
    request_hash: r.requestHash,
    send_at: r.sendAt.toISOString(),
    expires_at: r.expiresAt ? r.expiresAt.toISOString() : null,
    max_attempts: r.maxAttempts,
    actor: r.actor,
  };
}

/**
 * Several rows of one tenant, each with its creation audit event, as one statement in its own
 * transaction (see `enqueue_outbox_many`): all are stored or none. Returns the stored rows by id;
 * a row whose idempotency key already exists is absent.
 */
export async function insertOutboxRowsAlone(
  db: Db,
  tenantId: string,
  rows: readonly NewOutboxRow[],
  handOff?: HandOff | null,
  inbox?: InboxAtEnqueue | null,
): Promise<Map<string, OutboxRow>> {
  if (rows.some((r) => r.tenantId !== tenantId))
    throw new Error('insertOutboxRowsAlone: rows of another tenant');
  const lan = inbox && rows.some((r) => r.channel === 'in_app');
  const json = JSON.stringify(rows.map(manyRow));
  const res = await db.atomic<Inserted>(
    lan ? INSERT_MANY_LAN_SQL : INSERT_MANY_SQL,
    lan ? [tenantId, json, inbox.hubId, rows.map((r) => r.id)] : [tenantId, json],
    {
      name: lan ? 'enqueue_outbox_many_lan' : 'enqueue_outbox_many',
      settle: (q) => q.query<Inserted>(SETTLE_MANY_SQL, [rows.map((r) => r.id)]),
    },
  );
  return new Map(announceAll(db, res.rows, handOff, inbox).map((row) => [row.id, row]));
}
