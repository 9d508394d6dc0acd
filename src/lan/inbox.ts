import type { Queryable } from '../store/driver.ts';

/** One outbox row to put into the inboxes of the devices its target names. */
export interface InboxDelivery {
  ord: number;
  outboxId: string;
  tenantId: string;
  target: string;
  createdAt: Date;
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
 * Appends a batch of rows to the inboxes of their target devices in ONE statement (one round trip,
 * atomic): the target devices are locked in (tenant, id) order (so concurrent writers in other
 * processes queue behind each other instead of deadlocking), entries not already there take the
 * next seqs from each device's counter (UPDATE … RETURNING under that lock: no seq is handed out
 * twice, and none is skipped), and a `lan_inbox` NOTIFY per chunk, sent at commit, tells the other
 * hub processes which of the devices they hold have new entries (the device row names the
 * connection holding its socket, read under the same lock).
 *
 * The one race this leaves is the same row being written for the same device by two processes at
 * once (a lease that expired mid-write): the loser's snapshot predates the winner's entry, its
 * insert hits lan_inbox_once, the whole statement rolls back (counter included) and the lane
 * retries the row, which then finds the entry. Returns the devices each row resolved to (existing
 * entries included) and the entries added.
 */
export async function appendToInboxes(
  q: Queryable,
  hubId: string,
  items: readonly InboxDelivery[],
  /** The dispatcher worker of this process: its older in-flight in_app rows are written first. */
  worker: string | null = null,
): Promise<{ devicesByOrd: Map<number, string[]>; entries: InboxEntry[] }> {
  const r = await q.query<{ ord: number | null; tenant_id: string; device_id: string; seq: number | null; outbox_id: string | null }>(
    `WITH given AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS g(ord int, outbox_id uuid, tenant text, target text, created_at timestamptz)
     ), siblings AS (
       -- Older in_app rows this process's lane has claimed but not handed over yet (two claimed
       -- batches can reach the hub in either order): they go first, so seqs follow enqueue order.
       -- Their own delivery later finds the entries and adds nothing.
       SELECT NULL::int AS ord, o.id AS outbox_id, o.tenant_id AS tenant, o.target, o.created_at
       FROM outbox o
       WHERE $4::text IS NOT NULL AND o.status = 'sending' AND o.lease_owner = $4 AND o.channel = 'in_app'
         AND o.tenant_id IN (SELECT tenant FROM given) AND o.created_at < (SELECT max(created_at) FROM given)
         AND o.id <> ALL($3::uuid[])
     ), x AS (
       SELECT u.*, row_number() OVER (ORDER BY u.created_at, coalesce(u.ord, -1), u.outbox_id) AS pos
       FROM (SELECT * FROM given UNION ALL SELECT * FROM siblings) u
     ), targets AS (
       -- FOR UPDATE returns the newest version of each device row: last_seq is current under the lock.
       SELECT x.ord, x.pos, x.outbox_id, d.tenant_id, d.id AS device_id, d.last_seq, d.connected_hub
       FROM x JOIN lan_devices d ON d.tenant_id = x.tenant AND d.revoked_at IS NULL
         AND (d.id = x.target OR (x.target LIKE 'role:%' AND d.role = substr(x.target, 6)))
       ORDER BY d.tenant_id, d.id
       FOR UPDATE OF d
     ), existing AS MATERIALIZED (
       -- One lookup per row by outbox_id (the lan_inbox_once index), never a scan of a device's inbox.
       SELECT e.* FROM x CROSS JOIN LATERAL (
         SELECT i.outbox_id, i.tenant_id, i.device_id FROM lan_inbox i WHERE i.outbox_id = x.outbox_id OFFSET 0
       ) e -- OFFSET 0 keeps the planner from turning this into a hash join over the whole inbox
     ), numbered AS (
       SELECT t.*, row_number() OVER (PARTITION BY t.tenant_id, t.device_id ORDER BY t.pos) AS n,
              count(*) OVER (PARTITION BY t.tenant_id, t.device_id) AS cnt
       FROM targets t
       WHERE NOT EXISTS (SELECT 1 FROM existing e
                         WHERE e.outbox_id = t.outbox_id AND e.tenant_id = t.tenant_id AND e.device_id = t.device_id)
     ), bump AS (
       UPDATE lan_devices d SET last_seq = d.last_seq + c.cnt
       FROM (SELECT DISTINCT tenant_id, device_id, cnt FROM numbered) c
       WHERE d.tenant_id = c.tenant_id AND d.id = c.device_id
     ), ins AS (
       INSERT INTO lan_inbox (tenant_id, device_id, seq, outbox_id)
       SELECT tenant_id, device_id, last_seq + n, outbox_id FROM numbered
       RETURNING tenant_id, device_id, seq, outbox_id
     ), chunks AS (
       -- Only devices whose socket another hub process holds need the NOTIFY (this process pushes to
       -- its own sockets itself): one process on its own sends none.
       SELECT (row_number() OVER (ORDER BY tenant_id, device_id, last_seq + n) - 1) / ${NOTIFY_CHUNK} AS chunk,
              tenant_id, device_id, last_seq + n AS seq
       FROM numbered
       WHERE connected_hub IS NOT NULL AND NOT starts_with(connected_hub, $2::text || '/')
     ), notes AS (
       SELECT pg_notify('lan_inbox', json_build_object('h', $2::text,
                'e', json_agg(json_build_array(tenant_id, device_id, seq)))::text)
       FROM chunks GROUP BY chunk
     )
     SELECT t.ord, t.tenant_id, t.device_id, NULL::bigint AS seq, NULL::text AS outbox_id FROM targets t WHERE t.ord IS NOT NULL
     UNION ALL
     SELECT NULL, ins.tenant_id, ins.device_id, ins.seq, ins.outbox_id::text FROM ins
     UNION ALL
     SELECT NULL, NULL, NULL, NULL, NULL FROM (SELECT count(*) AS n FROM notes) w WHERE w.n < 0`,
    [
      JSON.stringify(
        items.map((i) => ({ ord: i.ord, outbox_id: i.outboxId, tenant: i.tenantId, target: i.target, created_at: i.createdAt.toISOString() })),
      ),
      hubId,
      items.map((i) => i.outboxId),
      worker,
    ],
  );
  const devicesByOrd = new Map<number, string[]>();
  const entries: InboxEntry[] = [];
  for (const row of r.rows) {
    if (row.seq === null) {
      const ord = Number(row.ord);
      const list = devicesByOrd.get(ord) ?? [];
      list.push(row.device_id);
      devicesByOrd.set(ord, list);
    } else {
      entries.push({ tenantId: row.tenant_id, deviceId: row.device_id, seq: Number(row.seq), outboxId: row.outbox_id! });
    }
  }
  // Pushes go out per device in seq order.
  entries.sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.seq - b.seq));
  return { devicesByOrd, entries };
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
    `SELECT d.last_seq, a.acked_seq AS acked
     FROM lan_devices d LEFT JOIN lan_device_acks a ON a.tenant_id = d.tenant_id AND a.device_id = d.id
     WHERE d.tenant_id = $1 AND d.id = $2 AND d.revoked_at IS NULL`,
    [tenantId, deviceId],
  );
  const row = r.rows[0];
  if (!row) return null;
  return { lastSeq: Number(row.last_seq), ackedSeq: Number(row.acked ?? 0) };
}

/**
 * Records cumulative acks (one row per device, however many entries they cover) and returns the
 * outbox rows that had an entry in the newly acked ranges: the candidates for `delivered`.
 */
export async function recordAcks(q: Queryable, ranges: readonly AckRange[]): Promise<string[]> {
  if (ranges.length === 0) return [];
  const r = await q.query<{ outbox_id: string }>(
    `WITH a AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS a(tenant_id text, device_id text, from_seq bigint, to_seq bigint)
     ), up AS (
       INSERT INTO lan_device_acks (tenant_id, device_id, acked_seq, updated_at)
       SELECT tenant_id, device_id, to_seq, clock_timestamp() FROM a ORDER BY tenant_id, device_id
       ON CONFLICT (tenant_id, device_id) DO UPDATE
         SET acked_seq = greatest(lan_device_acks.acked_seq, EXCLUDED.acked_seq), updated_at = EXCLUDED.updated_at
     )
     -- LATERAL: one primary-key range read per device, whatever the planner guesses about $1.
     SELECT DISTINCT l.outbox_id::text AS outbox_id
     FROM a CROSS JOIN LATERAL (
       SELECT i.outbox_id FROM lan_inbox i
       WHERE i.tenant_id = a.tenant_id AND i.device_id = a.device_id AND i.seq > a.from_seq AND i.seq <= a.to_seq
     ) l`,
    [JSON.stringify(ranges.map((a) => ({ tenant_id: a.tenantId, device_id: a.deviceId, from_seq: a.from, to_seq: a.to })))],
  );
  return r.rows.map((x) => x.outbox_id);
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

/**
 * Deletes inbox entries older than `retentionH` hours that their device acked (seq at or below its
 * cumulative acked_seq) or that were dropped when the device was revoked: a kitchen screen takes
 * hundreds of tickets a day, and without this every one stays forever. Unacked entries are never
 * pruned, however old (the device has not got them yet). At most `limit` entries per call, so the
 * statement stays short; returns how many went.
 */
export async function pruneInboxes(q: Queryable, retentionH: number, limit = 5_000): Promise<number> {
  const r = await q.query<{ n: number }>(
    `WITH old AS (
       SELECT i.tenant_id, i.device_id, i.seq FROM lan_inbox i
       LEFT JOIN lan_device_acks a ON a.tenant_id = i.tenant_id AND a.device_id = i.device_id
       WHERE i.created_at < now() - make_interval(hours => $1::int)
         AND (i.dropped_at IS NOT NULL OR i.seq <= coalesce(a.acked_seq, 0))
       LIMIT $2
     ), gone AS (
       DELETE FROM lan_inbox i USING old
       WHERE i.tenant_id = old.tenant_id AND i.device_id = old.device_id AND i.seq = old.seq
       RETURNING 1
     )
     SELECT count(*)::int AS n FROM gone`,
    [retentionH, limit],
  );
  return Number(r.rows[0]?.n ?? 0);
}
