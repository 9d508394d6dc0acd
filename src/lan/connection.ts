import WebSocket from 'ws';
import type { Logger } from 'pino';
import type { DeviceIdentity } from './devices.ts';
import type { StoredNotification } from './inbox.ts';
import { TokenBucket } from './rate-limit.ts';
import type { DoneInfo, ErrorMessage, ServerMessage } from './protocol.ts';

/** Entries read per query when replaying an inbox; pages are sent only as the socket drains. */
const PAGE = 500;
/** Above this many bytes queued on the socket, pushes wait (a slow device cannot grow our memory). */
export const MAX_BUFFERED_BYTES = 1 << 20;
/** A device's own messages: bursts of 200, 100 per second sustained. Cumulative acks keep an honest
 * device far below this; the cap bounds the work one device can make the hub do. */
export const RATE_CAPACITY = 200;
export const RATE_PER_SECOND = 100;

export interface ConnectionStore {
  readAfter(tenantId: string, deviceId: string, after: number, limit: number): Promise<StoredNotification[]>;
}

/** The parts of a notification that are the same for every device it goes to. */
export interface NotificationContent {
  id: string;
  title: string | null;
  body: string | null;
  source: string;
  target: string;
  createdAt: string;
  done?: DoneInfo;
}

/** `{"type":"notification","seq":` + seq + tail: the tail is serialised once per outbox row. */
export function notificationTail(c: NotificationContent): string {
  const base = {
    id: c.id,
    title: c.title,
    body: c.body,
    source: c.source,
    target: c.target,
    createdAt: c.createdAt,
  };
  return `,${JSON.stringify(c.done ? { ...base, done: c.done } : base).slice(1)}`;
}

function frame(seq: number, tail: string): string {
  return `{"type":"notification","seq":${seq}${tail}`;
}

export function contentOf(n: StoredNotification): NotificationContent {
  return {
    id: n.id,
    title: n.title,
    body: n.body,
    source: n.source,
    target: n.target,
    createdAt: new Date(n.created_at).toISOString(),
    ...(n.done_by && n.done_at
      ? {
          done: { by: n.done_by, byName: n.done_by_name ?? n.done_by, at: new Date(n.done_at).toISOString() },
        }
      : {}),
  };
}

/**
 * One authenticated device socket. Pushes are strictly in seq order with no holes: a live push is
 * sent only when it is the next seq; anything else (a gap, a backlog, a full socket) falls back to
 * reading the inbox from the last seq sent, one reader at a time.
 */
export class DeviceConnection {
  readonly key: string;
  readonly tenantId: string;
  readonly deviceId: string;
  /** Set after `resume`: nothing is pushed before the device said where it stands. */
  started = false;
  /** `hello` has been sent: nothing else may go out before it. */
  greeted = false;
  /** Highest seq sent on this socket. */
  lastSent = 0;
  /** Every entry up to here is acknowledged (as far as this process knows). */
  ackedSeq = 0;
  missedPongs = 0;
  overLimit = 0;
  closed = false;
  lastErrorAt = 0;
  readonly bucket = new TokenBucket(RATE_CAPACITY, RATE_PER_SECOND);
  /** Messages of one socket are handled one after another. */
  chain: Promise<void> = Promise.resolve();
  private draining = false;
  private drainAgain = false;

  constructor(
    readonly ws: WebSocket,
    readonly ident: DeviceIdentity,
    readonly connId: string,
    private readonly store: ConnectionStore,
    private readonly logger: Logger,
  ) {
    this.tenantId = ident.tenant.id;
    this.deviceId = ident.device.id;
    this.key = connectionKey(this.tenantId, this.deviceId);
  }

  send(msg: ServerMessage): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(msg));
  }

  /** Protocol errors go back at most once a second (a flood of bad messages gets few replies). */
  sendError(error: string, message: string): void {
    const now = Date.now();
    if (now - this.lastErrorAt < 1_000) return;
    this.lastErrorAt = now;
    const m: ErrorMessage = { type: 'error', error, message };
    this.send(m);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
    // A peer that never answers the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2_000).unref();
  }

  /** A freshly committed entry for this device, pushed without a database read when it is next. */
  pushLive(seq: number, tail: string): void {
    if (!this.started || this.closed) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    if (seq <= this.lastSent) return;
    if (seq === this.lastSent + 1 && this.ws.bufferedAmount < MAX_BUFFERED_BYTES) {
      this.ws.send(frame(seq, tail));
      this.lastSent = seq;
      return;
    }
    void this.drain();
  }

  /** Sends every entry after lastSent from the inbox, oldest first. */
  async drain(): Promise<void> {
    if (!this.started || this.closed) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        for (;;) {
          await this.waitForRoom();
          if (this.closed) return;
          const rows = await this.store.readAfter(this.tenantId, this.deviceId, this.lastSent, PAGE);
          if (this.closed) return;
          for (const r of rows) {
            if (r.seq <= this.lastSent) continue;
            this.ws.send(frame(r.seq, notificationTail(contentOf(r))));
            this.lastSent = r.seq;
          }
          if (rows.length < PAGE) break;
        }
      } while (this.drainAgain && !this.closed);
    } catch (err) {
      // The store is unreachable: try again shortly; the device keeps its socket.
      this.logger.warn({ err: String(err), device: this.deviceId }, 'inbox replay failed; retrying');
      setTimeout(() => void this.drain(), 1_000).unref();
    } finally {
      this.draining = false;
    }
  }

  private async waitForRoom(): Promise<void> {
    while (!this.closed && this.ws.bufferedAmount >= MAX_BUFFERED_BYTES) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export function connectionKey(tenantId: string, deviceId: string): string {
  return `${tenantId}\u0000${deviceId}`;
}
