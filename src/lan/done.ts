import { assertTransition } from '../core/status.ts';
import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import { publishChanges } from '../store/sql/notify.ts';

// The moves this file makes must stay legal ones of the status model (checked once, at import).
assertTransition('sent', 'read');
assertTransition('delivered', 'read');

/** Staff may take back a "done" this long after it was marked. */
export const UNDO_WINDOW_MS = 5 * 60_000;

export interface DoneMark {
  outboxId: string;
  by: string;
  byName: string;
  at: string;
}

/** A target device's entry of a row, to tell it about done/undo. */
export interface TargetEntry {
  deviceId: string;
  seq: number;
}

export type DoneResult =
  | { kind: 'done'; mark: DoneMark; targets: TargetEntry[] }
  /** Another device got there first: the caller is told who. */
  | { kind: 'already'; mark: DoneMark; targets: TargetEntry[] }
  | { kind: 'no_entry' };

export type UndoResult =
  | { kind: 'undone'; mark: DoneMark; targets: TargetEntry[] }
  | { kind: 'not_done' }
  | { kind: 'too_late'; mark: DoneMark }
  | { kind: 'no_entry' };

async function entryOf(
  q: Queryable,
  tenantId: string,
  deviceId: string,
  seq: number,
): Promise<string | null> {
  const r = await q.query<{ outbox_id: string }>(
    `SELECT outbox_id::text AS outbox_id FROM lan_inbox
     WHERE tenant_id = $1 AND device_id = $2 AND seq = $3 AND dropped_at IS NULL`,
    [tenantId, deviceId, seq],
  );
  return r.rows[0]?.outbox_id ?? null;
}

async function targetsOf(q: Queryable, tenantId: string, outboxId: string): Promise<TargetEntry[]> {
  const r = await q.query<{ device_id: string; seq: number }>(
    `SELECT device_id, seq FROM lan_inbox WHERE outbox_id = $1 AND tenant_id = $2 AND dropped_at IS NULL`,
    [outboxId, tenantId],
  );
  return r.rows.map((x) => ({ deviceId: x.device_id, seq: Number(x.seq) }));
}

const markOf = (r: {
  outbox_id: string;
  device_id: string;
  device_name: string;
  done_at: Date | string;
}): DoneMark => ({
  outboxId: r.outbox_id,
  by: r.device_id,
  byName: r.device_name,
  at: new Date(r.done_at).toISOString(),
});

/**
 * A target device marks its entry `seq` done. The first device to do so owns the row: the mark is
 * stored, audited (actor `device:<id>`), and the outbox row moves to `read` if it has not already
 * (a row stays `read` after an undo: someone did read it). In a transaction.
 */
export async function markDone(
  q: Queryable,
  tenantId: string,
  device: { id: string; name: string },
  seq: number,
): Promise<DoneResult> {
  const outboxId = await entryOf(q, tenantId, device.id, seq);
  if (!outboxId) return { kind: 'no_entry' };
  const ins = await q.query<{ outbox_id: string; device_id: string; device_name: string; done_at: Date }>(
    `INSERT INTO lan_done (tenant_id, outbox_id, device_id, device_name) VALUES ($1, $2, $3, $4)
     ON CONFLICT (outbox_id, tenant_id) DO NOTHING
     RETURNING outbox_id::text AS outbox_id, device_id, device_name, done_at`,
    [tenantId, outboxId, device.id, device.name],
  );
  const targets = await targetsOf(q, tenantId, outboxId);
  if (!ins.rows[0]) {
    const cur = await q.query<{ outbox_id: string; device_id: string; device_name: string; done_at: Date }>(
      `SELECT outbox_id::text AS outbox_id, device_id, device_name, done_at FROM lan_done WHERE outbox_id = $1 AND tenant_id = $2`,
      [outboxId, tenantId],
    );
    return { kind: 'already', mark: markOf(cur.rows[0]!), targets };
  }
  const mark = markOf(ins.rows[0]);
  const actor = `device:${device.id}`;
  const moved = await q.query<{
    id: string;
    tenant_id: string;
    adapter: string;
    status: string;
    from_status: string;
  }>(
    `WITH old AS (SELECT id, status FROM outbox WHERE id = $1 AND tenant_id = $2 AND status IN ('sent', 'delivered') FOR UPDATE)
     UPDATE outbox o SET status = 'read', reason = $3, updated_at = now() FROM old WHERE o.id = old.id
     RETURNING o.id::text AS id, o.tenant_id, o.adapter, o.status, old.status AS from_status`,
    [outboxId, tenantId, `marked done on ${device.name}`],
  );
  const m = moved.rows[0];
  await appendAudit(q, [
    m
      ? {
          tenantId,
          entity: 'outbox',
          entityId: outboxId,
          actor,
          action: 'device_done',
          from: m.from_status,
          to: 'read',
          reason: `marked done on ${device.name}`,
          detail: { seq },
        }
      : {
          tenantId,
          entity: 'outbox',
          entityId: outboxId,
          actor,
          action: 'device_done',
          reason: `marked done on ${device.name}`,
          detail: { seq },
        },
  ]);
  if (m) publishChanges(q, [m]);
  return { kind: 'done', mark, targets };
}

/** A target device takes a done mark back, within UNDO_WINDOW_MS of it (audited). In a transaction. */
export async function undoDone(
  q: Queryable,
  tenantId: string,
  device: { id: string; name: string },
  seq: number,
): Promise<UndoResult> {
  const outboxId = await entryOf(q, tenantId, device.id, seq);
  if (!outboxId) return { kind: 'no_entry' };
  const cur = await q.query<{
    outbox_id: string;
    device_id: string;
    device_name: string;
    done_at: Date;
    fresh: boolean;
  }>(
    `SELECT outbox_id::text AS outbox_id, device_id, device_name, done_at,
       done_at > now() - make_interval(secs => $3::double precision / 1000) AS fresh
     FROM lan_done WHERE outbox_id = $1 AND tenant_id = $2 FOR UPDATE`,
    [outboxId, tenantId, UNDO_WINDOW_MS],
  );
  const row = cur.rows[0];
  if (!row) return { kind: 'not_done' };
  const mark = markOf(row);
  if (!row.fresh) return { kind: 'too_late', mark };
  await q.query(`DELETE FROM lan_done WHERE outbox_id = $1 AND tenant_id = $2`, [outboxId, tenantId]);
  await appendAudit(q, [
    {
      tenantId,
      entity: 'outbox',
      entityId: outboxId,
      actor: `device:${device.id}`,
      action: 'device_undo',
      reason: `done by ${mark.byName} undone on ${device.name}`,
      detail: { seq, doneBy: mark.by },
    },
  ]);
  return { kind: 'undone', mark, targets: await targetsOf(q, tenantId, outboxId) };
}
