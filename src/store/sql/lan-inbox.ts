import type { Queryable } from '../driver.ts';

/** An inbox entry with its content from the outbox row and its done mark, if any. */
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

/** A row of `lan_append_inbox`: a resolved device (seq null) or a new entry. */
export interface AppendedRow {
  ord: number | null;
  tenant_id: string;
  device_id: string;
  seq: number | null;
  outbox_id: string | null;
}

/** Calls `lan_append_inbox` (migration 0015) with a batch of rows, in one round trip. */
export async function appendInbox(
  q: Queryable,
  hubId: string,
  worker: string | null,
  items: readonly { ord: number; outbox_id: string; tenant: string; target: string; created_at: string }[],
): Promise<AppendedRow[]> {
  const r = await q.query<AppendedRow>(
    `SELECT r_ord AS ord, r_tenant AS tenant_id, r_device AS device_id, r_seq AS seq, r_outbox AS outbox_id
     FROM lan_append_inbox($1::text, $2::text, $3::jsonb)`,
    [hubId, worker, JSON.stringify(items)],
    { name: 'lan_append_inbox' },
  );
  return r.rows;
}

export async function inboxAfter(
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
  return r.rows;
}

export async function inboxCounters(
  q: Queryable,
  tenantId: string,
  deviceId: string,
): Promise<{ last_seq: number; acked: number | null } | null> {
  const r = await q.query<{ last_seq: number; acked: number | null }>(
    `SELECT d.last_seq, a.acked_seq AS acked
     FROM lan_devices d LEFT JOIN lan_device_acks a ON a.tenant_id = d.tenant_id AND a.device_id = d.id
     WHERE d.tenant_id = $1 AND d.id = $2 AND d.revoked_at IS NULL`,
    [tenantId, deviceId],
  );
  return r.rows[0] ?? null;
}

/** Raises each device's acked seq and returns the outbox rows with entries in the acked ranges. */
export async function ackRanges(
  q: Queryable,
  ranges: readonly { tenant_id: string; device_id: string; from_seq: number; to_seq: number }[],
): Promise<string[]> {
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
    [JSON.stringify(ranges)],
  );
  return r.rows.map((x) => x.outbox_id);
}

export async function setConnectedHub(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  connection: string,
): Promise<void> {
  await q.query(
    `UPDATE lan_devices SET connected_hub = $3, last_seen_at = now() WHERE tenant_id = $1 AND id = $2`,
    [tenantId, deviceId, connection],
  );
}

/** Clears the holder only if it is still `expect` (a newer connection may have taken over). */
export async function clearConnectedHub(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  expect: string,
): Promise<void> {
  await q.query(
    `UPDATE lan_devices SET connected_hub = NULL, last_seen_at = now() WHERE tenant_id = $1 AND id = $2 AND connected_hub = $3`,
    [tenantId, deviceId, expect],
  );
}

export async function connectedHub(q: Queryable, tenantId: string, deviceId: string): Promise<string | null> {
  const r = await q.query<{ connected_hub: string | null }>(
    'SELECT connected_hub FROM lan_devices WHERE tenant_id = $1 AND id = $2',
    [tenantId, deviceId],
  );
  return r.rows[0]?.connected_hub ?? null;
}

export async function touchLastSeen(
  q: Queryable,
  devices: readonly { tenant_id: string; device_id: string }[],
): Promise<void> {
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
    [JSON.stringify(devices)],
  );
}

export async function activeDeviceTokenHashes(q: Queryable, hashes: readonly string[]): Promise<string[]> {
  const r = await q.query<{ token_hash: string }>(
    `SELECT t.token_hash FROM api_tokens t
     JOIN lan_devices d ON d.tenant_id = t.tenant_id AND d.id = t.subject AND d.revoked_at IS NULL
     WHERE t.token_hash = ANY($1::text[]) AND t.role = 'device' AND t.revoked_at IS NULL
       AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [hashes],
  );
  return r.rows.map((x) => x.token_hash);
}

/** Deletes up to `limit` acked or dropped entries older than `retentionH` hours; returns how many. */
export async function pruneOldEntries(q: Queryable, retentionH: number, limit: number): Promise<number> {
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
