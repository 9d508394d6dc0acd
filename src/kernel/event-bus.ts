import type { Db } from '../store/driver.ts';
import { EVENTS_CHANNEL, parseNotice } from '../store/sql/notify.ts';

export interface OutboxEvent {
  tenantId: string;
  id: string;
  status: string;
}

/**
 * Fans outbox status changes (NOTIFY outbox_events, sent by every writer in any process) out to the
 * live listeners of this process, e.g. the owner panel's event stream.
 */
export class EventBus {
  private readonly listeners = new Set<(e: OutboxEvent) => void>();
  private unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly db: Db) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, (payload) => {
      const n = parseNotice(payload);
      if (!n) return;
      for (const [id, status] of n.e) {
        const e = { tenantId: n.t, id, status };
        for (const l of this.listeners) l(e);
      }
    });
  }

  subscribe(fn: (e: OutboxEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async stop(): Promise<void> {
    await this.unlisten?.();
    this.listeners.clear();
  }
}
