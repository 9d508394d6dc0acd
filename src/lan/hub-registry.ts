import type { OutboxRow } from '../store/rows.ts';
import { connectionKey, notificationTail, type DeviceConnection } from './connection.ts';
import type { DoneMark, TargetEntry } from './done.ts';
import type { InboxEntry } from './inbox.ts';
import type { DoneMessage, ServerMessage } from './protocol.ts';

/** The device sockets this process holds, one per device, and the pushes that go straight to them. */
export class ConnectionRegistry {
  private readonly conns = new Map<string, DeviceConnection>();

  get size(): number {
    return this.conns.size;
  }

  get(tenantId: string, deviceId: string): DeviceConnection | undefined {
    return this.conns.get(connectionKey(tenantId, deviceId));
  }

  has(tenantId: string, deviceId: string): boolean {
    return this.conns.has(connectionKey(tenantId, deviceId));
  }

  all(): IterableIterator<DeviceConnection> {
    return this.conns.values();
  }

  /** Registers a socket, closing the device's older one here first. */
  takeOver(conn: DeviceConnection, code: number, reason: string): void {
    this.conns.get(conn.key)?.close(code, reason);
    this.conns.set(conn.key, conn);
  }

  /** Only the registered socket is removed: a replaced one closing late must not evict its successor. */
  remove(conn: DeviceConnection): void {
    if (this.conns.get(conn.key) === conn) this.conns.delete(conn.key);
  }

  closeAll(code: number, reason: string): void {
    for (const c of this.conns.values()) c.close(code, reason);
  }

  broadcast(msg: ServerMessage): void {
    for (const c of this.conns.values()) c.send(msg);
  }

  /** Pushes new entries to the sockets held here; each row's frame tail is serialised once. */
  pushEntries(entries: readonly InboxEntry[], rows: ReadonlyMap<string, OutboxRow>): void {
    if (this.conns.size === 0 || entries.length === 0) return;
    const tails = new Map<string, string>();
    for (const e of entries) {
      const conn = this.get(e.tenantId, e.deviceId);
      if (!conn || conn.tenantId !== e.tenantId) continue;
      let tail = tails.get(e.outboxId);
      if (tail === undefined) {
        const r = rows.get(e.outboxId);
        // An older row written ahead of its own delivery: its content is read from the inbox.
        if (!r) {
          void conn.drain();
          continue;
        }
        tail = notificationTail({
          id: r.id,
          title: r.title,
          body: r.body,
          source: r.source,
          target: r.target,
          createdAt: new Date(r.created_at).toISOString(),
        });
        tails.set(e.outboxId, tail);
      }
      conn.pushLive(e.seq, tail);
    }
  }

  /** Tells the tenant's sockets here to re-read their inboxes (entries exist but are unknown here). */
  drainTenant(tenantId: string): void {
    for (const c of this.conns.values()) if (c.tenantId === tenantId) void c.drain();
  }

  /** A done or undo for the target devices whose sockets are here. */
  tellDone(tenantId: string, kind: 'done' | 'undo', mark: DoneMark, targets: readonly TargetEntry[]): void {
    for (const t of targets) {
      const c = this.get(tenantId, t.deviceId);
      // Entries not sent on this socket yet carry their done state when they are replayed.
      if (c && c.started && t.seq <= c.lastSent) c.send(doneMessage(kind, mark, t.seq));
    }
  }
}

export function doneMessage(kind: 'done' | 'undo', mark: DoneMark, seq: number): DoneMessage {
  return { type: kind, id: mark.outboxId, seq, by: mark.by, byName: mark.byName, at: mark.at };
}
