import type { Db } from '../store/driver.ts';
import type { DeviceConnection } from './connection.ts';
import { markDone, undoDone, type DoneMark, type TargetEntry } from './done.ts';
import { CONTROL_CHANNEL, DONE_CHUNK, type DoneControl } from './hub-control.ts';
import { doneMessage, type ConnectionRegistry } from './hub-registry.ts';

export interface DoneSyncDeps {
  db: Db;
  hubId: string;
  conns: ConnectionRegistry;
}

/** Done and undo marks: stored, then told to every target device, here and in the other hubs. */
export class DoneSync {
  constructor(private readonly d: DoneSyncDeps) {}

  /** A device marks its entry done or undoes that; every target device of the row is told. */
  async doneOrUndo(conn: DeviceConnection, kind: 'done' | 'undo', seq: number): Promise<void> {
    const device = { id: conn.deviceId, name: conn.ident.device.name };
    if (kind === 'done') {
      const r = await this.d.db.tx((q) => markDone(q, conn.tenantId, device, seq));
      if (r.kind === 'no_entry') return conn.sendError('unknown_seq', `This device has no entry ${seq}.`);
      // Someone else was first: this device is told who, nobody else hears anything new.
      if (r.kind === 'already') return this.tellOwn(conn, 'done', r.mark, r.targets);
      return this.fanOut(conn.tenantId, 'done', r.mark, r.targets);
    }
    const r = await this.d.db.tx((q) => undoDone(q, conn.tenantId, device, seq));
    if (r.kind === 'no_entry') return conn.sendError('unknown_seq', `This device has no entry ${seq}.`);
    if (r.kind === 'not_done') return conn.sendError('not_done', 'That entry is not marked done.');
    if (r.kind === 'too_late')
      return conn.sendError('undo_expired', 'Done can be undone for 5 minutes only.');
    return this.fanOut(conn.tenantId, 'undo', r.mark, r.targets);
  }

  /** A mark made through another hub: told to the sockets held here. */
  onControl(m: DoneControl): void {
    if (m.h === this.d.hubId || !Array.isArray(m.e)) return;
    const mark = { outboxId: m.o, by: m.b, byName: m.n, at: m.a };
    this.d.conns.tellDone(
      m.t,
      m.u ? 'undo' : 'done',
      mark,
      m.e.map(([deviceId, seq]) => ({ deviceId, seq: Number(seq) })),
    );
  }

  private tellOwn(
    conn: DeviceConnection,
    kind: 'done' | 'undo',
    mark: DoneMark,
    targets: readonly TargetEntry[],
  ): void {
    const mine = targets.find((t) => t.deviceId === conn.deviceId);
    if (mine) conn.send(doneMessage(kind, mark, mine.seq));
  }

  /** Tells this process's sockets at once and the other processes through NOTIFY lan_control. */
  private async fanOut(
    tenantId: string,
    kind: 'done' | 'undo',
    mark: DoneMark,
    targets: readonly TargetEntry[],
  ): Promise<void> {
    this.d.conns.tellDone(tenantId, kind, mark, targets);
    for (let i = 0; i < targets.length; i += DONE_CHUNK) {
      const chunk = targets.slice(i, i + DONE_CHUNK);
      const m: DoneControl = {
        k: 'done',
        t: tenantId,
        o: mark.outboxId,
        b: mark.by,
        n: mark.byName,
        a: mark.at,
        u: kind === 'undo',
        e: chunk.map((e) => [e.deviceId, e.seq]),
        h: this.d.hubId,
      };
      await this.d.db.notify(CONTROL_CHANNEL, JSON.stringify(m));
    }
  }
}
