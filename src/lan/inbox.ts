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
  done_by?: string | null;
  done_by_name?: string | null;
  done_at?: Date | string | null;
}

export interface AckRange {
  tenantId: string;
  deviceId: string;
  /** Every entry up to `from` is known to be acked already (bounds the scan). */
  from: number;
  to: number;
}

/**
 * Appends a batch of rows to the inboxes of their target devices in one round trip, atomically
 * (`lan_append_inbox`, migration 0015): writers of one tenant queue on an advisory lock, entries not
 * already there take the next seqs from each device's counter (no seq is handed out twice, none is
 * skipped), and a `lan_inbox` NOTIFY per chunk, sent at commit, tells the other hub processes which
 * of the devices they hold have new entries.
 *
 * The one race this leaves is the same row being written for the same device by two processes at
 * once (a lease that expired mid-write): the loser's insert hits lan_inbox_once, the whole call
 * rolls back (counters included) and the lane retries the row, which then finds the entries.
 * Returns the devices each row resolved to (existing entries included) and the entries added.
 */
export async function appendToInboxes(
  q: Queryable,
  hubId: string,
  items: readonly InboxDelivery[],
  /** The dispatcher worker of this process: its older in-flight in_app rows are written first. */
  worker: string | null = null,
): Promise<{ devicesByOrd: Map<number, string[]>; entries: InboxEntry[] }> {
  const r = await q.query<{
    ord: number | null;
    tenant_id: string;
    device_id: string;
    seq: number | null;
    outbox_id: string | null;
  }>(
    `SELECT r_ord AS ord, r_tenant AS tenant_id, r_device AS device_id, r_seq AS seq, r_outbox AS outbox_id
     FROM lan_append_inbox($1::text, $2::text, $3::jsonb)`,
    [
      hubId,
      worker,
      JSON.stringify(
        items.map((i) => ({
          ord: i.ord,
          outbox_id: i.outboxId,
          tenant: i.tenantId,
          target: i.target,
          created_at: i.createdAt.toISOString(),
        })),
      ),
    ],
    { name: 'lan_append_inbox' },
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
      entries.push({
        tenantId: row.tenant_id,
        deviceId: row.device_id,
        seq: Number(row.seq),
        outboxId: row.outbox_id!,
      });
    }
  }
  // Pushes go out per device in seq order.
  entries.sort((a, b) =>
    a.tenantId < b.tenantId
      ? -1
      : a.tenantId > b.tenantId
        ? 1
        : a.deviceId < b.deviceId
          ? -1
          : a.deviceId > b.deviceId
            ? 1
            : a.seq - b.seq,
  );
  return { devicesByOrd, entries };
}

/** Entries of one device after `after`, oldest first, with their content from the outbox row. */
export async function readAfter(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  after: number,
  limit: number,
): Promise<StoredNotification[]> {
  const r = await q.query<StoredNotification>(
    `SELECT i.seq, o.id::text AS id, o.title, o.body, o.source, o.target, o.created_at,
       dn.device_id AS done_by, dn.device_name AS done_by_name, dn.done_at
     FROM lan_inbox i JOIN outbox o ON o.id = i.outbox_id AND o.tenant_id = i.tenant_id
     LEFT JOIN lan_done dn ON dn.outbox_id = i.outbox_id AND dn.tenant_id = i.tenant_id
     WHERE i.tenant_id = $1 AND i.device_id = $2 AND i.seq > $3 AND i.dropped_at IS NULL
     ORDER BY i.seq LIMIT $4`,
    [tenantId, deviceId, after, limit],
  );
  return r.rows.map((x) => ({ ...x, seq: Number(x.seq) }));
}

/** The device's counter and the highest seq it has acknowledged (acks are cumulative). */
export async function inboxPosition(
  q: Queryable,
  tenantId: string,
  deviceId: string,
): Promise<{ lastSeq: number; ackedSeq: number } | null> {
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
    [
      JSON.stringify(
        ranges.map((a) => ({ tenant_id: a.tenantId, device_id: a.deviceId, from_seq: a.from, to_seq: a.to })),
      ),
    ],
  );
  return r.rows.map((x) => x.outbox_id);
}

/** Presence: the hub connection holding the device's socket, and when it was last seen. */
export async function markConnected(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  connection: string | null,
  expect?: string,
): Promise<void> {
  if (connection) {
    await q.query(
      `UPDATE lan_devices SET connected_hub = $3, last_seen_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, deviceId, connection],
    );
  } else {
    await q.query(
      `UPDATE lan_devices SET connected_hub = NULL, last_seen_at = now() WHERE tenant_id = $1 AND id = $2 AND connected_hub = $3`,
      [tenantId, deviceId, expect ?? ''],
    );
  }
}

export async function currentHolder(
  q: Queryable,
  tenantId: string,
  deviceId: string,
): Promise<string | null> {
  const r = await q.query<{ connected_hub: string | null }>(
    'SELECT connected_hub FROM lan_devices WHERE tenant_id = $1 AND id = $2',
    [tenantId, deviceId],
  );
  return r.rows[0]?.connected_hub ?? null;
}

export async function touchSeen(
  q: Queryable,
  devices: readonly { tenantId: string; deviceId: string }[],
): Promise<void> {
  if (devices.length === 0) return;
  await q.query(
    // A device row locked by an inbox writer is skipped, never waited for: the writer takes its row
    // locks in no set order (see migration 0015), so waiting here could deadlock with it. A skipped
    // device is touched on the next heartbeat.
    `WITH l AS (
       SELECT d.tenant_id, d.id FROM lan_devices d
       JOIN jsonb_to_recordset($1::jsonb) AS x(tenant_id text, device_id text) ON d.tenant_id = x.tenant_id AND d.id = x.device_id
       ORDER BY d.tenant_id, d.id FOR UPDATE OF d SKIP LOCKED
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
