import type { Queryable } from '../store/driver.ts';
import {
  ackRanges,
  activeDeviceTokenHashes,
  appendInbox,
  clearConnectedHub,
  connectedHub,
  inboxAfter,
  inboxCounters,
  pruneOldEntries,
  setConnectedHub,
  touchLastSeen,
  type StoredNotification,
} from '../store/sql/lan-inbox.ts';

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

export type { StoredNotification };

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
  const rows = await appendInbox(
    q,
    hubId,
    worker,
    items.map((i) => ({
      ord: i.ord,
      outbox_id: i.outboxId,
      tenant: i.tenantId,
      target: i.target,
      created_at: i.createdAt.toISOString(),
    })),
  );
  const devicesByOrd = new Map<number, string[]>();
  const entries: InboxEntry[] = [];
  for (const row of rows) {
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
  const rows = await inboxAfter(q, tenantId, deviceId, after, limit);
  return rows.map((x) => ({ ...x, seq: Number(x.seq) }));
}

/** The device's counter and the highest seq it has acknowledged (acks are cumulative). */
export async function inboxPosition(
  q: Queryable,
  tenantId: string,
  deviceId: string,
): Promise<{ lastSeq: number; ackedSeq: number } | null> {
  const row = await inboxCounters(q, tenantId, deviceId);
  if (!row) return null;
  return { lastSeq: Number(row.last_seq), ackedSeq: Number(row.acked ?? 0) };
}

/**
 * Records cumulative acks (one row per device, however many entries they cover) and returns the
 * outbox rows that had an entry in the newly acked ranges: the candidates for `delivered`.
 */
export async function recordAcks(q: Queryable, ranges: readonly AckRange[]): Promise<string[]> {
  if (ranges.length === 0) return [];
  return ackRanges(
    q,
    ranges.map((a) => ({ tenant_id: a.tenantId, device_id: a.deviceId, from_seq: a.from, to_seq: a.to })),
  );
}

/** Presence: the hub connection holding the device's socket, and when it was last seen. */
export async function markConnected(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  connection: string | null,
  expect?: string,
): Promise<void> {
  if (connection) await setConnectedHub(q, tenantId, deviceId, connection);
  else await clearConnectedHub(q, tenantId, deviceId, expect ?? '');
}

export async function currentHolder(
  q: Queryable,
  tenantId: string,
  deviceId: string,
): Promise<string | null> {
  return connectedHub(q, tenantId, deviceId);
}

export async function touchSeen(
  q: Queryable,
  devices: readonly { tenantId: string; deviceId: string }[],
): Promise<void> {
  if (devices.length === 0) return;
  await touchLastSeen(
    q,
    devices.map((d) => ({ tenant_id: d.tenantId, device_id: d.deviceId })),
  );
}

/** Of the given token hashes, those that still belong to an active device token. */
export async function liveDeviceTokens(q: Queryable, hashes: readonly string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  return new Set(await activeDeviceTokenHashes(q, hashes));
}

/**
 * Deletes inbox entries older than `retentionH` hours that their device acked (seq at or below its
 * cumulative acked_seq) or that were dropped when the device was revoked: a kitchen screen takes
 * hundreds of tickets a day, and without this every one stays forever. Unacked entries are never
 * pruned, however old (the device has not got them yet). At most `limit` entries per call, so the
 * statement stays short; returns how many went.
 */
export async function pruneInboxes(q: Queryable, retentionH: number, limit = 5_000): Promise<number> {
  return pruneOldEntries(q, retentionH, limit);
}
