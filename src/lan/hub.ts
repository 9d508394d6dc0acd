import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import type { EventBus } from '../kernel/event-bus.ts';
import type { LanDelivery } from '../providers/lan-hub.ts';
import type { Db } from '../store/driver.ts';
import type { OutboxRow } from '../store/rows.ts';
import type { WrittenEntry } from '../store/sql/enqueue.ts';
import { markLanDelivered } from '../store/sql/lan-delivered.ts';
import { DeviceConnection } from './connection.ts';
import type { DeviceIdentity } from './devices.ts';
import { AckFlusher } from './hub-acks.ts';
import { CONTROL_CHANNEL, parseControl } from './hub-control.ts';
import { DoneSync } from './hub-done-sync.ts';
import { DeviceMessages } from './hub-messages.ts';
import { ConnectionRegistry } from './hub-registry.ts';
import { checkTokens, heartbeat, PRUNE_MS, pruneAcked } from './hub-upkeep.ts';
import { InboxWriter } from './hub-writer.ts';
import { currentHolder, inboxPosition, markConnected, readAfter } from './inbox.ts';
import { CLOSE, type HelloMessage, type InternetState } from './protocol.ts';

/** Open sockets re-check their token this often, so a revoked token is cut off within 5 s even if
 * the revocation NOTIFY was missed. */
const TOKEN_CHECK_MS = 2_000;
/** Backstop for rows whose last ack raced the dispatcher (or a crash between ack and transition). */
const SWEEP_MS = 30_000;
/** The internet state is re-derived this often; a change is pushed to every device. */
const INTERNET_CHECK_MS = 1_000;

export interface LanHubDeps {
  db: Db;
  config: Config;
  logger: Logger;
  redactor: Redactor;
  events?: EventBus;
  hubId?: string;
  /** The lease owner name of this process's dispatcher (null in an API-only process). */
  worker?: () => string | null;
  /** Can this process reach its online providers (src/core/internet.ts)? */
  internet?: () => InternetState;
  /** Told of new inbox entries written here (the printers' workers look at once). */
  written?: (tenantId: string, deviceIds: readonly string[]) => void;
}

/**
 * The LAN hub of one process: writes in_app rows into device inboxes (for the dispatcher's LAN lane),
 * holds device sockets, pushes new entries, collects acks and moves fully acked rows to `delivered`.
 * Several processes on one PostgreSQL cooperate through NOTIFY: `lan_inbox` (new entries: the process
 * holding the socket pushes) and `lan_control` (revocations and socket take-overs). Nothing here
 * awaits an online provider. The work itself is in the hub-*.ts modules; this class wires them
 * together and owns the lifecycle.
 */
export class LanHub implements LanDelivery {
  readonly id: string;
  private readonly conns = new ConnectionRegistry();
  private readonly writer: InboxWriter;
  private readonly acks: AckFlusher;
  private readonly done: DoneSync;
  private readonly messages: DeviceMessages;
  private running = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubs: (() => unknown)[] = [];
  private seqConn = 0;
  private internetNow: InternetState = 'unknown';
  private readonly log: Logger;

  constructor(private readonly d: LanHubDeps) {
    this.id = d.hubId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.log = d.logger;
    const warn = (msg: string, err: unknown) => this.warn(msg, err);
    const base = { db: d.db, hubId: this.id, conns: this.conns };
    this.writer = new InboxWriter({ ...base, worker: d.worker, written: d.written });
    this.acks = new AckFlusher({ db: d.db, running: () => this.running, warn });
    this.done = new DoneSync(base);
    this.messages = new DeviceMessages({ db: d.db, acks: this.acks, done: this.done, warn });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  isConnected(tenantId: string, deviceId: string): boolean {
    return this.conns.has(tenantId, deviceId);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { db, config } = this.d;
    this.unsubs.push(await db.listen('lan_inbox', (p) => this.onInboxNotify(p)));
    this.unsubs.push(await db.listen(CONTROL_CHANNEL, (p) => this.onControl(p)));
    if (this.d.events) {
      // A row becomes `sent` after its entries were pushed; if the acks already came, finish it now.
      this.unsubs.push(
        this.d.events.subscribe((e) => {
          if (e.status === 'sent') this.acks.check(e.id);
        }),
      );
    }
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(
        () => void Promise.resolve(fn()).catch((err) => this.warn('LAN background task failed', err)),
        ms,
      );
      t.unref();
      this.timers.push(t);
    };
    every(config.env.LAN_PING_INTERVAL_MS, () => heartbeat(db, this.conns));
    every(TOKEN_CHECK_MS, () => checkTokens(db, this.conns));
    every(SWEEP_MS, () => this.sweep());
    every(PRUNE_MS, async () => void (await this.prune()));
    this.internetNow = this.d.internet?.() ?? 'unknown';
    every(INTERNET_CHECK_MS, () => this.checkInternet());
    void this.sweep().catch((err) => this.warn('LAN sweep failed', err));
  }

  /** Closes every socket (1001), finishes the inbox writes and ack flushes in progress. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.closeAll(CLOSE.goingAway, 'server shutting down');
    await this.writer.idle();
    await this.acks.stop();
    for (const u of this.unsubs.splice(0)) await u();
  }

  closeAll(code: number, reason: string): void {
    this.conns.closeAll(code, reason);
  }

  // ---- delivery (called by the LAN lane through the lan_hub adapter) ----

  deliver(row: OutboxRow): Promise<{ devices: string[] }> {
    if (!this.running) return Promise.reject(new Error('the LAN hub is stopped'));
    return this.writer.deliver(row);
  }

  /** Entries written when their row was stored; see InboxWriter.pushWritten. */
  pushWritten(row: OutboxRow, entries: readonly WrittenEntry[] | null): void {
    if (!this.running) return;
    this.writer.pushWritten(row, entries);
  }

  private onInboxNotify(payload: string): void {
    let p: { h: string; e: [string, string, number][] };
    try {
      p = JSON.parse(payload) as typeof p;
    } catch {
      return;
    }
    if (p.h === this.id || !Array.isArray(p.e)) return;
    for (const [t, d, s] of p.e) {
      const conn = this.conns.get(t, d);
      if (conn && conn.started && Number(s) > conn.lastSent) void conn.drain();
    }
  }

  // ---- sockets ----

  /**
   * Takes an authenticated socket. `early` holds messages that arrived while the first-message auth
   * was being checked; they are handled first, in order.
   */
  accept(ws: WebSocket, ident: DeviceIdentity, early: [WebSocket.RawData, boolean][] = []): void {
    const connId = `${this.id}/${++this.seqConn}`;
    const conn = new DeviceConnection(
      ws,
      ident,
      connId,
      { readAfter: (t, d, a, l) => readAfter(this.d.db, t, d, a, l) },
      this.log,
    );
    if (!this.running) {
      conn.close(CLOSE.goingAway, 'server shutting down');
      return;
    }
    this.conns.takeOver(conn, CLOSE.replaced, 'replaced by a newer connection of this device');
    ws.on('message', (data, isBinary) => this.messages.onMessage(conn, data, isBinary));
    ws.on('pong', () => {
      conn.missedPongs = 0;
    });
    ws.on('close', () => this.onClose(conn));
    ws.on('error', () => undefined);
    conn.chain = this.greet(conn);
    for (const [data, isBinary] of early) this.messages.onMessage(conn, data, isBinary);
    this.log.debug({ device: conn.deviceId, tenant: conn.tenantId }, 'device connected');
  }

  private async greet(conn: DeviceConnection): Promise<void> {
    try {
      const pos = await inboxPosition(this.d.db, conn.tenantId, conn.deviceId);
      if (!pos) {
        conn.close(CLOSE.revoked, 'device revoked');
        return;
      }
      conn.ackedSeq = pos.ackedSeq;
      const hello: HelloMessage = {
        type: 'hello',
        device: conn.deviceId,
        role: conn.ident.device.role,
        tenant: conn.tenantId,
        lastSeq: pos.lastSeq,
        ackedSeq: pos.ackedSeq,
        internet: this.internetNow,
      };
      conn.send(hello);
      conn.greeted = true;
      await markConnected(this.d.db, conn.tenantId, conn.deviceId, conn.connId);
      // Closed while registering: do not leave it marked as the device's socket.
      if (conn.closed)
        return void (await markConnected(this.d.db, conn.tenantId, conn.deviceId, null, conn.connId));
      await this.d.db.notify(
        CONTROL_CHANNEL,
        JSON.stringify({ k: 'session', t: conn.tenantId, d: conn.deviceId, c: conn.connId, h: this.id }),
      );
    } catch (err) {
      this.warn('device greeting failed', err);
      conn.close(CLOSE.internal, 'store unavailable');
    }
  }

  /** The internet state as a device should see it; a change goes to every open socket. */
  private checkInternet(): void {
    const now = this.d.internet?.() ?? 'unknown';
    if (now === this.internetNow) return;
    this.internetNow = now;
    this.conns.broadcast({ type: 'status', internet: now });
  }

  get internet(): InternetState {
    return this.internetNow;
  }

  private onClose(conn: DeviceConnection): void {
    conn.closed = true;
    this.conns.remove(conn);
    void markConnected(this.d.db, conn.tenantId, conn.deviceId, null, conn.connId).catch(() => undefined);
    this.log.debug({ device: conn.deviceId, tenant: conn.tenantId }, 'device disconnected');
  }

  private onControl(payload: string): void {
    const m = parseControl(payload);
    if (!m) return;
    if (m.k === 'done') return this.done.onControl(m);
    const conn = this.conns.get(m.t, m.d);
    if (!conn) return;
    if (m.k === 'revoke') conn.close(CLOSE.revoked, m.r ?? 'device revoked');
    // Another process took a socket of this device. Notifications can arrive late, so the newest
    // registration in the store decides (checked after this socket's own registration is written).
    else if (m.k === 'session' && m.h !== this.id && m.c !== conn.connId) {
      conn.chain = conn.chain
        .then(async () => {
          const holder = await currentHolder(this.d.db, conn.tenantId, conn.deviceId);
          if (holder !== conn.connId)
            conn.close(CLOSE.replaced, 'replaced by a newer connection of this device');
        })
        .catch((err) => this.warn('checking the socket holder failed', err));
    }
  }

  /**
   * After a revocation or token rotation committed: closes the device's socket here at once and,
   * through NOTIFY, in every other process.
   */
  async disconnectDevice(tenantId: string, deviceId: string, reason: string): Promise<void> {
    this.conns.get(tenantId, deviceId)?.close(CLOSE.revoked, reason);
    await this.d.db.notify(
      CONTROL_CHANNEL,
      JSON.stringify({ k: 'revoke', t: tenantId, d: deviceId, r: reason }),
    );
  }

  // ---- acks and delivered rows ----

  /** Writes coalesced acks, then moves rows that every target acked to `delivered`. */
  flush(): Promise<void> {
    return this.acks.flush();
  }

  async sweep(): Promise<void> {
    await markLanDelivered(this.d.db, null);
  }

  /** Deletes acked (or dropped) inbox entries past LAN_INBOX_RETENTION_H, a bounded batch at a time. */
  async prune(): Promise<number> {
    const total = await pruneAcked(this.d.db, this.d.config.env.LAN_INBOX_RETENTION_H);
    if (total > 0) this.log.debug({ entries: total }, 'pruned acked inbox entries');
    return total;
  }

  private warn(msg: string, err: unknown): void {
    this.log.warn({ err: this.d.redactor.scrub(err instanceof Error ? err.message : String(err)) }, msg);
  }
}
