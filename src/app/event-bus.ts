import type { Db } from '../store/driver.ts';

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
    this.unlisten = await this.db.listen('outbox_events', (payload) => {
      try {
        const p = JSON.parse(payload) as { t: string; id: string; s: string };
        const e = { tenantId: p.t, id: p.id, status: p.s };
        for (const l of this.listeners) l(e);
      } catch {
        // Not ours; ignore.
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
