import type { Db, Queryable } from '../store/driver.ts';

/** One outbox row to put into the inboxes of the devices its target names. */
export interface InboxDelivery {
  ord: number;
  outboxId: string;
  tenantId: string;
  target: string;
}

export interface InboxEntry {
  tenantId: string;
  deviceId: string;
  seq: number;
  outboxId: string;
}

export interface StoredNotification {
  seq: number;
  id: string;
  title: string | null;
  body: string | null;
  source: string;
  target: string;
  created_at: Date | string;
}

export interface AckRange {
  tenantId: string;
  deviceId: string;
  /** Every entry up to `from` is known to be acked already (bounds the scan). */
  from: number;
  to: number;
}

/** NOTIFY payloads stay under PostgreSQL's 8000-byte limit: ids are ≤ 64 chars, so 40 entries fit. */
const NOTIFY_CHUNK = 40;

/**
 * Appends a batch of rows to the inboxes of their target devices, in one transaction:
 * 1. the target devices are locked in (tenant, id) order, so concurrent writers in other processes
 *    queue behind each other and never deadlock;
 * 2. then, in a new statement (whose snapshot sees whatever the previous lock holder committed),
 *    entries not already there get the next seqs from each device's counter (UPDATE … RETURNING),
 *    and a `lan_inbox` NOTIFY per chunk tells every hub process which devices have new entries.
 * Returns the devices each row resolved to (existing entries included) and the new entries.
 */
export async function appendToInboxes(
  db: Db,
  hubId: string,
  items: readonly InboxDelivery[],
): Promise<{ devicesByOrd: Map<number, string[]>; entries: InboxEntry[] }> {
  return db.tx(async (q) => {
    const targets = await q.query<{ ord: number; tenant_id: string; id: string }>(
      `SELECT x.ord, d.tenant_id, d.id
       FROM jsonb_to_recordset($1::jsonb) AS x(ord int, tenant text, target text)
       JOIN lan_devices d ON d.tenant_id = x.tenant AND d.revoked_at IS NULL
         AND (d.id = x.target OR (x.target LIKE 'role:%' AND d.role = substr(x.target, 6)))
       ORDER BY d.tenant_id, d.id
       FOR UPDATE OF d`,
      [JSON.stringify(items.map((i) => ({ ord: i.ord, tenant: i.tenantId, target: i.target })))],
    );
    const devicesByOrd = new Map<number, string[]>();
    const byOrd = new Map(items.map((i) => [i.ord, i]));
    const pairs: { ord: number; tenant_id: string; device_id: string; outbox_id: string }[] = [];
    for (const t of targets.rows) {
      const ord = Number(t.ord);
      const list = devicesByOrd.get(ord) ?? [];
      list.push(t.id);
      devicesByOrd.set(ord, list);
      pairs.push({ ord, tenant_id: t.tenant_id, device_id: t.id, outbox_id: byOrd.get(ord)!.outboxId });
    }
    if (pairs.length === 0) return { devicesByOrd, entries: [] };
    const ins = await q.query<{ tenant_id: string; device_id: string; seq: number; outbox_id: string }>(
      `WITH pairs AS (
         SELECT p.ord, p.tenant_id, p.device_id, p.outbox_id
         FROM jsonb_to_recordset($1::jsonb) AS p(ord int, tenant_id text, device_id text, outbox_id uuid)
         WHERE NOT EXISTS (SELECT 1 FROM lan_inbox i
                           WHERE i.tenant_id = p.tenant_id AND i.device_id = p.device_id AND i.outbox_id = p.outbox_id)
       ), numbered AS (
         SELECT pairs.*, row_number() OVER (PARTITION BY tenant_id, device_id ORDER BY ord) AS n,
                count(*) OVER (PARTITION BY tenant_id, device_id) AS cnt
         FROM pairs
       ), bump AS (
         UPDATE lan_devices d SET last_seq = d.last_seq + c.cnt
         FROM (SELECT DISTINCT tenant_id, device_id, cnt FROM numbered) c
         WHERE d.tenant_id = c.tenant_id AND d.id = c.device_id
         RETURNING d.tenant_id, d.id AS device_id, d.last_seq - c.cnt AS base
       ), ins AS (
         INSERT INTO lan_inbox (tenant_id, device_id, seq, outbox_id)
         SELECT n.tenant_id, n.device_id, b.base + n.n, n.outbox_id
         FROM numbered n JOIN bump b ON b.tenant_id = n.tenant_id AND b.device_id = n.device_id
         RETURNING tenant_id, device_id, seq, outbox_id
       ), chunks AS (
         SELECT (row_number() OVER (ORDER BY tenant_id, device_id, seq) - 1) / ${NOTIFY_CHUNK} AS chunk, tenant_id, device_id, seq
         FROM ins
       ), notes AS (
         SELECT pg_notify('lan_inbox', json_build_object('h', $2::text,
                  'e', json_agg(json_build_array(tenant_id, device_id, seq)))::text)
         FROM chunks GROUP BY chunk
       )
       SELECT ins.tenant_id, ins.device_id, ins.seq, ins.outbox_id::text AS outbox_id, (SELECT count(*) FROM notes) AS _n
       FROM ins ORDER BY ins.tenant_id, ins.device_id, ins.seq`,
      [JSON.stringify(pairs), hubId],
    );
    return {
      devicesByOrd,
      entries: ins.rows.map((r) => ({ tenantId: r.tenant_id, deviceId: r.device_id, seq: Number(r.seq), outboxId: r.outbox_id })),
    };
  });
}

/** Entries of one device after `after`, oldest first, with their content from the outbox row. */
export async function readAfter(q: Queryable, tenantId: string, deviceId: string, after: number, limit: number): Promise<StoredNotification[]> {
  const r = await q.query<StoredNotification>(
    `SELECT i.seq, o.id::text AS id, o.title, o.body, o.source, o.target, o.created_at
     FROM lan_inbox i JOIN outbox o ON o.id = i.outbox_id AND o.tenant_id = i.tenant_id
     WHERE i.tenant_id = $1 AND i.device_id = $2 AND i.seq > $3 AND i.dropped_at IS NULL
     ORDER BY i.seq LIMIT $4`,
    [tenantId, deviceId, after, limit],
  );
  return r.rows.map((x) => ({ ...x, seq: Number(x.seq) }));
}

/** The device's counter and the highest seq it has acknowledged (acks are cumulative). */
export async function inboxPosition(q: Queryable, tenantId: string, deviceId: string): Promise<{ lastSeq: number; ackedSeq: number } | null> {
  const r = await q.query<{ last_seq: number; acked: number | null }>(
    `SELECT d.last_seq,
       (SELECT i.seq FROM lan_inbox i WHERE i.tenant_id = d.tenant_id AND i.device_id = d.id AND i.acked_at IS NOT NULL
        ORDER BY i.seq DESC LIMIT 1) AS acked
     FROM lan_devices d WHERE d.tenant_id = $1 AND d.id = $2 AND d.revoked_at IS NULL`,
    [tenantId, deviceId],
  );
  const row = r.rows[0];
  if (!row) return null;
  return { lastSeq: Number(row.last_seq), ackedSeq: Number(row.acked ?? 0) };
}

/** Marks acked ranges (batch-shaped); returns the outbox rows that had an entry acked. */
export async function ackRanges(q: Queryable, ranges: readonly AckRange[]): Promise<{ outboxId: string; tenantId: string; deviceId: string }[]> {
  if (ranges.length === 0) return [];
  const r = await q.query<{ outbox_id: string; tenant_id: string; device_id: string }>(
    `UPDATE lan_inbox i SET acked_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS a(tenant_id text, device_id text, from_seq bigint, to_seq bigint)
     WHERE i.tenant_id = a.tenant_id AND i.device_id = a.device_id AND i.seq > a.from_seq AND i.seq <= a.to_seq
       AND i.acked_at IS NULL AND i.dropped_at IS NULL
     RETURNING i.outbox_id::text AS outbox_id, i.tenant_id, i.device_id`,
    [JSON.stringify(ranges.map((a) => ({ tenant_id: a.tenantId, device_id: a.deviceId, from_seq: a.from, to_seq: a.to })))],
  );
  return r.rows.map((x) => ({ outboxId: x.outbox_id, tenantId: x.tenant_id, deviceId: x.device_id }));
}

/** Presence: the hub connection holding the device's socket, and when it was last seen. */
export async function markConnected(q: Queryable, tenantId: string, deviceId: string, connection: string | null, expect?: string): Promise<void> {
  if (connection) {
    await q.query(`UPDATE lan_devices SET connected_hub = $3, last_seen_at = now() WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      deviceId,
      connection,
    ]);
  } else {
    await q.query(
      `UPDATE lan_devices SET connected_hub = NULL, last_seen_at = now() WHERE tenant_id = $1 AND id = $2 AND connected_hub = $3`,
      [tenantId, deviceId, expect ?? ''],
    );
  }
}

export async function currentHolder(q: Queryable, tenantId: string, deviceId: string): Promise<string | null> {
  const r = await q.query<{ connected_hub: string | null }>('SELECT connected_hub FROM lan_devices WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    deviceId,
  ]);
  return r.rows[0]?.connected_hub ?? null;
}

export async function touchSeen(q: Queryable, devices: readonly { tenantId: string; deviceId: string }[]): Promise<void> {
  if (devices.length === 0) return;
  await q.query(
    // Locks in (tenant, id) order like the inbox writer, so the two never deadlock.
    `WITH l AS (
       SELECT d.tenant_id, d.id FROM lan_devices d
       JOIN jsonb_to_recordset($1::jsonb) AS x(tenant_id text, device_id text) ON d.tenant_id = x.tenant_id AND d.id = x.device_id
       ORDER BY d.tenant_id, d.id FOR UPDATE OF d
     )
     UPDATE lan_devices d SET last_seen_at = now() FROM l WHERE d.tenant_id = l.tenant_id AND d.id = l.id`,
    [JSON.stringify(devices.map((d) => ({ tenant_id: d.tenantId, device_id: d.deviceId })))],
  );
}

/** Of the given token hashes, those that still belong to an active device token. */
export async function liveDeviceTokens(q: Queryable, hashes: readonly string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const r = await q.query<{ token_hash: string }>(
    `SELECT t.token_hash FROM api_tokens t
     JOIN lan_devices d ON d.tenant_id = t.tenant_id AND d.id = t.subject AND d.revoked_at IS NULL
     WHERE t.token_hash = ANY($1::text[]) AND t.role = 'device' AND t.revoked_at IS NULL
       AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [hashes],
  );
  return new Set(r.rows.map((x) => x.token_hash));
}
