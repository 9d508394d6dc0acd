import { assertTransition } from '../core/status.ts';
import type { Queryable } from '../store/driver.ts';
import { appendAudit } from '../store/sql/audit.ts';
import {
  deleteDone,
  doneMark,
  entryOutboxId,
  entryTargets,
  insertDone,
  lockDoneMark,
  markRowRead,
  type DoneRow,
} from '../store/sql/lan-done.ts';
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

async function targetsOf(q: Queryable, tenantId: string, outboxId: string): Promise<TargetEntry[]> {
  const rows = await entryTargets(q, tenantId, outboxId);
  return rows.map((x) => ({ deviceId: x.device_id, seq: Number(x.seq) }));
}

const markOf = (r: DoneRow): DoneMark => ({
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
  const outboxId = await entryOutboxId(q, tenantId, device.id, seq);
  if (!outboxId) return { kind: 'no_entry' };
  const ins = await insertDone(q, tenantId, outboxId, device);
  const targets = await targetsOf(q, tenantId, outboxId);
  if (!ins) return { kind: 'already', mark: markOf((await doneMark(q, tenantId, outboxId))!), targets };
  const mark = markOf(ins);
  const actor = `device:${device.id}`;
  const m = await markRowRead(q, tenantId, outboxId, `marked done on ${device.name}`);
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
  const outboxId = await entryOutboxId(q, tenantId, device.id, seq);
  if (!outboxId) return { kind: 'no_entry' };
  const row = await lockDoneMark(q, tenantId, outboxId, UNDO_WINDOW_MS);
  if (!row) return { kind: 'not_done' };
  const mark = markOf(row);
  if (!row.fresh) return { kind: 'too_late', mark };
  await deleteDone(q, tenantId, outboxId);
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
