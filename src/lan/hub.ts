import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import type { EventBus } from '../app/event-bus.ts';
import type { LanDelivery } from '../providers/lan-hub.ts';
import type { Db } from '../store/driver.ts';
import type { OutboxRow } from '../store/rows.ts';
import type { WrittenEntry } from '../store/sql/enqueue.ts';
import { markLanDelivered } from '../store/sql/lan-delivered.ts';
import { connectionKey, DeviceConnection, notificationTail, RATE_CAPACITY } from './connection.ts';
import type { DeviceIdentity } from './devices.ts';
import {
  appendToInboxes,
  currentHolder,
  inboxPosition,
  liveDeviceTokens,
  markConnected,
  pruneInboxes,
  readAfter,
  recordAcks,
  touchSeen,
  type AckRange,
  type InboxEntry,
} from './inbox.ts';
import { ClientMessage, CLOSE, type DoneMessage, type HelloMessage, type InternetState } from './protocol.ts';
import { markDone, undoDone, type DoneMark, type TargetEntry } from './done.ts';

/** Rows written per inbox transaction; rows that arrive while one is in flight wait for the next. */
const WRITE_BATCH = 256;
/** Acks are coalesced for this long and written in one statement, one row per device (losing them
 * in a crash = a re-send, never a loss). Longer = less database work per notification; the cost is
 * that `delivered` shows up to this much later. */
const ACK_FLUSH_MS = 200;
/** Open sockets re-check their token this often, so a revoked token is cut off within 5 s even if
 * the revocation NOTIFY was missed. */
const TOKEN_CHECK_MS = 2_000;
/** Backstop for rows whose last ack raced the dispatcher (or a crash between ack and transition). */
const SWEEP_MS = 30_000;
/** Pruning reads the whole inbox table (no index on age; one would cost every insert), so it runs
 * rarely, in batches; 5,000 x 20 per 10 minutes is far above what a busy restaurant adds. */
const PRUNE_MS = 600_000;
const PRUNE_BATCH = 5_000;
const PRUNE_ROUNDS = 20;
/** The internet state is re-derived this often; a change is pushed to every device. */
const INTERNET_CHECK_MS = 1_000;
/** Done/undo fan-out entries per NOTIFY (each ~40 bytes; PostgreSQL caps a payload at 8000). */
const DONE_CHUNK = 120;
/** Rows remembered as written at enqueue, awaiting their delivery by this process's lane. */
const WRITTEN_HERE_MAX = 10_000;

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

interface PendingDelivery {
  row: OutboxRow;
  resolve: (v: { devices: string[] }) => void;
  reject: (err: unknown) => void;
}

type ControlMessage =
  | { k: 'revoke'; t: string; d: string; r?: string }
  | { k: 'session'; t: string; d: string; c: string; h: string }
  // A row marked done (u: false) or undone (u: true): o outbox id, b/n device id/name, a time,
  // e the target entries [device, seq]; h the sending hub, which told its own sockets already.
  | {
      k: 'done';
      t: string;
      o: string;
      b: string;
      n: string;
      a: string;
      u: boolean;
      e: [string, number][];
      h: string;
    };

/**
 * The LAN hub of one process: writes in_app rows into device inboxes (for the dispatcher's LAN lane),
 * holds device sockets, pushes new entries, collects acks and moves fully acked rows to `delivered`.
 * Several processes on one PostgreSQL cooperate through NOTIFY: `lan_inbox` (new entries: the process
 * holding the socket pushes) and `lan_control` (revocations and socket take-overs). Nothing here
 * awaits an online provider.
 */
export class LanHub implements LanDelivery {
  readonly id: string;
  private readonly conns = new Map<string, DeviceConnection>();
  private readonly queue: PendingDelivery[] = [];
  /** Rows whose inbox entries were written as they were stored here: row id → its devices. */
  private readonly writtenHere = new Map<string, string[]>();
  private writing = false;
  private running = false;
  private acks = new Map<string, AckRange>();
  private toCheck = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubs: (() => unknown)[] = [];
  private seqConn = 0;
  private internetNow: InternetState = 'unknown';
  private readonly log: Logger;

  constructor(private readonly d: LanHubDeps) {
    this.id = d.hubId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.log = d.logger;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  isConnected(tenantId: string, deviceId: string): boolean {
    return this.conns.has(connectionKey(tenantId, deviceId));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { db, config } = this.d;
    this.unsubs.push(await db.listen('lan_inbox', (p) => this.onInboxNotify(p)));
    this.unsubs.push(await db.listen('lan_control', (p) => this.onControl(p)));
    if (this.d.events) {
      // A row becomes `sent` after its entries were pushed; if the acks already came, finish it now.
      this.unsubs.push(
        this.d.events.subscribe((e) => {
          if (e.status !== 'sent') return;
          this.toCheck.add(e.id);
          this.scheduleFlush();
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
    every(config.env.LAN_PING_INTERVAL_MS, () => this.heartbeat());
    every(TOKEN_CHECK_MS, () => this.checkTokens());
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
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    await this.flush();
    for (const u of this.unsubs.splice(0)) await u();
  }

  closeAll(code: number, reason: string): void {
    for (const c of this.conns.values()) c.close(code, reason);
  }

  // ---- delivery (called by the LAN lane through the lan_hub adapter) ----

  deliver(row: OutboxRow): Promise<{ devices: string[] }> {
    if (!this.running) return Promise.reject(new Error('the LAN hub is stopped'));
    // Written when it was stored, in this process: its devices are known, nothing is left to write.
    const known = this.writtenHere.get(row.id);
    if (known) {
      this.writtenHere.delete(row.id);
      return Promise.resolve({ devices: known });
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // The lane hands over a whole claimed batch synchronously; start after it to write it at once.
        queueMicrotask(() => void this.writeLoop());
      }
    });
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, WRITE_BATCH);
        // Oldest first (stable for equal times), so one dispatcher keeps enqueue order per device.
        batch.sort((a, b) => new Date(a.row.created_at).getTime() - new Date(b.row.created_at).getTime());
        try {
          const { devicesByOrd, entries } = await appendToInboxes(
            this.d.db,
            this.id,
            batch.map((p, ord) => ({
              ord,
              outboxId: p.row.id,
              tenantId: p.row.tenant_id,
              target: p.row.target,
              createdAt: new Date(p.row.created_at),
            })),
            this.d.worker?.() ?? null,
          );
          for (const e of entries) this.d.written?.(e.tenantId, [e.deviceId]);
          this.pushLocal(entries, new Map(batch.map((p) => [p.row.id, p.row])));
          batch.forEach((p, ord) => p.resolve({ devices: devicesByOrd.get(ord) ?? [] }));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * Entries written when their row was stored (see InboxAtEnqueue), told right after that commit:
   * pushed to this process's sockets at once. `null`: the entries exist but are unknown here (the
   * answer was lost and the row read back), so the tenant's sockets re-read their inboxes.
   */
  pushWritten(row: OutboxRow, entries: readonly WrittenEntry[] | null): void {
    if (!this.running) return;
    if (entries !== null) {
      this.d.written?.(
        row.tenant_id,
        entries.map((e) => e.deviceId),
      );
      // Its delivery by this process's lane then needs no second look at the inboxes. Bounded: a
      // row whose delivery happens elsewhere (lane full, another dispatcher) is never asked for.
      if (this.writtenHere.size >= WRITTEN_HERE_MAX)
        this.writtenHere.delete(this.writtenHere.keys().next().value!);
      this.writtenHere.set(
        row.id,
        entries.map((e) => e.deviceId),
      );
    }
    if (this.conns.size === 0) return;
    if (entries === null) {
      for (const c of this.conns.values()) if (c.tenantId === row.tenant_id) void c.drain();
      return;
    }
    this.pushLocal(
      entries.map((e) => ({ tenantId: row.tenant_id, deviceId: e.deviceId, seq: e.seq, outboxId: row.id })),
      new Map([[row.id, row]]),
    );
  }

  private pushLocal(entries: readonly InboxEntry[], rows: ReadonlyMap<string, OutboxRow>): void {
    if (this.conns.size === 0 || entries.length === 0) return;
    const tails = new Map<string, string>();
    for (const e of entries) {
      const conn = this.conns.get(connectionKey(e.tenantId, e.deviceId));
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

  private onInboxNotify(payload: string): void {
    let p: { h: string; e: [string, string, number][] };
    try {
      p = JSON.parse(payload) as typeof p;
    } catch {
      return;
    }
    if (p.h === this.id || !Array.isArray(p.e)) return;
    for (const [t, d, s] of p.e) {
      const conn = this.conns.get(connectionKey(t, d));
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
    const prev = this.conns.get(conn.key);
    if (prev) prev.close(CLOSE.replaced, 'replaced by a newer connection of this device');
    this.conns.set(conn.key, conn);
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('pong', () => {
      conn.missedPongs = 0;
    });
    ws.on('close', () => this.onClose(conn));
    ws.on('error', () => undefined);
    conn.chain = this.greet(conn);
    for (const [data, isBinary] of early) this.onMessage(conn, data, isBinary);
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
        'lan_control',
        JSON.stringify({ k: 'session', t: conn.tenantId, d: conn.deviceId, c: conn.connId, h: this.id }),
      );
    } catch (err) {
      this.warn('device greeting failed', err);
      conn.close(CLOSE.internal, 'store unavailable');
    }
  }

  private onMessage(conn: DeviceConnection, data: WebSocket.RawData, isBinary: boolean): void {
    // Until `hello` is out, error replies wait behind the greeting: it is always the first frame,
    // even when the device's first message is bad. After it they go at once (a flood is answered
    // before the socket is cut).
    const refuse = (error: string, message: string) => {
      if (conn.greeted) conn.sendError(error, message);
      else conn.chain = conn.chain.then(() => conn.sendError(error, message));
    };
    if (!conn.bucket.take()) {
      conn.overLimit++;
      if (conn.overLimit > RATE_CAPACITY) {
        const cut = () => conn.close(CLOSE.rateLimited, 'rate limited');
        // Before hello, the cut waits behind it too (once; later messages are dropped here).
        if (conn.greeted) cut();
        else if (conn.overLimit === RATE_CAPACITY + 1) conn.chain = conn.chain.then(cut);
      } else refuse('rate_limited', 'Too many messages from this device; this one was dropped.');
      return;
    }
    conn.overLimit = 0;
    if (isBinary) {
      refuse('bad_message', 'Messages are JSON text.');
      return;
    }
    let msg: ClientMessage;
    try {
      const parsed = ClientMessage.safeParse(JSON.parse(String(data)));
      if (!parsed.success) {
        refuse(
          'bad_message',
          'Send {"type":"resume","after":n}, {"type":"ack","seq":n}, {"type":"done","seq":n}, {"type":"undo","seq":n} or {"type":"ping"}.',
        );
        return;
      }
      msg = parsed.data;
    } catch {
      refuse('bad_message', 'The message is not valid JSON.');
      return;
    }
    conn.chain = conn.chain
      .then(() => this.handle(conn, msg))
      .catch((err) => {
        this.warn('device message failed', err);
        conn.sendError('internal_error', 'The hub could not handle that message; try again.');
      });
  }

  private async handle(conn: DeviceConnection, msg: ClientMessage): Promise<void> {
    // An ack sent just before the device closed still counts.
    if (conn.closed && msg.type !== 'ack') return;
    switch (msg.type) {
      case 'ping':
        conn.send({ type: 'pong' });
        return;
      case 'auth':
        conn.sendError('already_authenticated', 'This socket is already authenticated.');
        return;
      case 'resume': {
        if (conn.started) {
          conn.sendError('already_resumed', 'resume is sent once per connection; reconnect to start over.');
          return;
        }
        const pos = await inboxPosition(this.d.db, conn.tenantId, conn.deviceId);
        if (!pos) {
          conn.close(CLOSE.revoked, 'device revoked');
          return;
        }
        // The device cannot hold entries that were never handed out.
        const after = Math.min(msg.after ?? conn.ackedSeq, pos.lastSeq);
        if (after > conn.ackedSeq) this.queueAck(conn, after);
        conn.lastSent = after;
        conn.started = true;
        conn.send({ type: 'resumed', after });
        await conn.drain();
        return;
      }
      case 'ack': {
        if (!conn.started) {
          conn.sendError('not_resumed', 'Send resume before acking.');
          return;
        }
        // Only entries this socket delivered (or the device said it had on resume) can be acked.
        const seq = Math.min(msg.seq, conn.lastSent);
        if (seq > conn.ackedSeq) this.queueAck(conn, seq);
        return;
      }
      case 'done':
      case 'undo':
        if (!conn.started) {
          conn.sendError('not_resumed', `Send resume before ${msg.type}.`);
          return;
        }
        await this.doneOrUndo(conn, msg.type, msg.seq);
        return;
    }
  }

  /** A device marks its entry done or undoes that; every target device of the row is told. */
  private async doneOrUndo(conn: DeviceConnection, kind: 'done' | 'undo', seq: number): Promise<void> {
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
    this.tellLocal(tenantId, kind, mark, targets);
    for (let i = 0; i < targets.length; i += DONE_CHUNK) {
      const chunk = targets.slice(i, i + DONE_CHUNK);
      const m: ControlMessage = {
        k: 'done',
        t: tenantId,
        o: mark.outboxId,
        b: mark.by,
        n: mark.byName,
        a: mark.at,
        u: kind === 'undo',
        e: chunk.map((e) => [e.deviceId, e.seq]),
        h: this.id,
      };
      await this.d.db.notify('lan_control', JSON.stringify(m));
    }
  }

  private tellLocal(
    tenantId: string,
    kind: 'done' | 'undo',
    mark: DoneMark,
    targets: readonly TargetEntry[],
  ): void {
    for (const t of targets) {
      const c = this.conns.get(connectionKey(tenantId, t.deviceId));
      // Entries not sent on this socket yet carry their done state when they are replayed.
      if (c && c.started && t.seq <= c.lastSent) c.send(doneMessage(kind, mark, t.seq));
    }
  }

  /** The internet state as a device should see it; a change goes to every open socket. */
  private checkInternet(): void {
    const now = this.d.internet?.() ?? 'unknown';
    if (now === this.internetNow) return;
    this.internetNow = now;
    for (const c of this.conns.values()) c.send({ type: 'status', internet: now });
  }

  get internet(): InternetState {
    return this.internetNow;
  }

  private onClose(conn: DeviceConnection): void {
    conn.closed = true;
    if (this.conns.get(conn.key) === conn) this.conns.delete(conn.key);
    void markConnected(this.d.db, conn.tenantId, conn.deviceId, null, conn.connId).catch(() => undefined);
    this.log.debug({ device: conn.deviceId, tenant: conn.tenantId }, 'device disconnected');
  }

  private onControl(payload: string): void {
    let m: ControlMessage;
    try {
      m = JSON.parse(payload) as ControlMessage;
    } catch {
      return;
    }
    if (m.k === 'done') {
      if (m.h === this.id || !Array.isArray(m.e)) return;
      const mark = { outboxId: m.o, by: m.b, byName: m.n, at: m.a };
      this.tellLocal(
        m.t,
        m.u ? 'undo' : 'done',
        mark,
        m.e.map(([deviceId, seq]) => ({ deviceId, seq: Number(seq) })),
      );
      return;
    }
    const conn = this.conns.get(connectionKey(m.t, m.d));
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
    this.conns.get(connectionKey(tenantId, deviceId))?.close(CLOSE.revoked, reason);
    await this.d.db.notify(
      'lan_control',
      JSON.stringify({ k: 'revoke', t: tenantId, d: deviceId, r: reason }),
    );
  }

  // ---- acks and delivered rows ----

  private queueAck(conn: DeviceConnection, to: number): void {
    const cur = this.acks.get(conn.key);
    if (cur) cur.to = Math.max(cur.to, to);
    else
      this.acks.set(conn.key, { tenantId: conn.tenantId, deviceId: conn.deviceId, from: conn.ackedSeq, to });
    conn.ackedSeq = Math.max(conn.ackedSeq, to);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, ACK_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Writes coalesced acks, then moves rows that every target acked to `delivered`. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.acks.size === 0 && this.toCheck.size === 0) return;
    const ranges = [...this.acks.values()];
    const ids = this.toCheck;
    this.acks = new Map();
    this.toCheck = new Set();
    const run = (async () => {
      let acked = false;
      try {
        for (const id of await recordAcks(this.d.db, ranges)) ids.add(id);
        acked = true;
        if (ids.size > 0) await markLanDelivered(this.d.db, [...ids]);
      } catch (err) {
        this.warn('recording device acks failed; retrying', err);
        if (!acked) {
          for (const r of ranges) {
            const key = connectionKey(r.tenantId, r.deviceId);
            const cur = this.acks.get(key);
            if (cur) {
              cur.from = Math.min(cur.from, r.from);
              cur.to = Math.max(cur.to, r.to);
            } else this.acks.set(key, r);
          }
        }
        for (const id of ids) this.toCheck.add(id);
        if (this.running) setTimeout(() => this.scheduleFlush(), 500).unref();
      }
    })();
    this.flushing = run;
    try {
      await run;
    } finally {
      this.flushing = null;
    }
  }

  async sweep(): Promise<void> {
    await markLanDelivered(this.d.db, null);
  }

  /** Deletes acked (or dropped) inbox entries past LAN_INBOX_RETENTION_H, a bounded batch at a time. */
  async prune(): Promise<number> {
    let total = 0;
    for (let round = 0; round < PRUNE_ROUNDS; round++) {
      const n = await pruneInboxes(this.d.db, this.d.config.env.LAN_INBOX_RETENTION_H, PRUNE_BATCH);
      total += n;
      if (n < PRUNE_BATCH) break;
    }
    if (total > 0) this.log.debug({ entries: total }, 'pruned acked inbox entries');
    return total;
  }

  // ---- liveness ----

  private async heartbeat(): Promise<void> {
    const seen: { tenantId: string; deviceId: string }[] = [];
    for (const c of this.conns.values()) {
      if (c.closed) continue;
      // Two pings without a pong: the device is gone (power cut, cable pulled).
      if (c.missedPongs >= 2) {
        c.closed = true;
        c.ws.terminate();
        continue;
      }
      if (c.ws.readyState !== c.ws.OPEN) continue;
      c.missedPongs++;
      c.ws.ping();
      seen.push({ tenantId: c.tenantId, deviceId: c.deviceId });
    }
    await touchSeen(this.d.db, seen);
  }

  private async checkTokens(): Promise<void> {
    const open = [...this.conns.values()].filter((c) => !c.closed);
    if (open.length === 0) return;
    const live = await liveDeviceTokens(this.d.db, [...new Set(open.map((c) => c.ident.tokenHash))]);
    for (const c of open) if (!live.has(c.ident.tokenHash)) c.close(CLOSE.revoked, 'token revoked');
  }

  private warn(msg: string, err: unknown): void {
    this.log.warn({ err: this.d.redactor.scrub(err instanceof Error ? err.message : String(err)) }, msg);
  }
}

function doneMessage(kind: 'done' | 'undo', mark: DoneMark, seq: number): DoneMessage {
  return { type: kind, id: mark.outboxId, seq, by: mark.by, byName: mark.byName, at: mark.at };
}
