/**
 * mupzaos-comms/device: the typed client of the LAN hub for browsers and Node (the device app and
 * `mupza-comms device connect` both use it). It connects with a device token, resumes after the
 * last seq the device holds, hands each notification over once and in order, acks cumulatively,
 * marks entries done / undoes that, pings the hub, and reconnects with exponential backoff with
 * jitter (so a hub restart is not met by every screen at the same instant).
 *
 * No Node built-ins here: the same file is bundled into the device app.
 */
import { nextDelayMs } from '../core/backoff.ts';
import type { DoneInfo, HelloMessage, InternetState, NotificationMessage } from '../lan/protocol.ts';

// The wire shapes are the hub's own (src/lan/protocol.ts), without their `type` tag.
export type { DoneInfo, InternetState };
export type Notification = Omit<NotificationMessage, 'type'>;
export type Hello = Omit<HelloMessage, 'type'>;

/** A row marked done (or undone) on some target device; `seq` is this device's entry of it. */
export interface DoneEvent extends DoneInfo {
  id: string;
  seq: number;
  /** Marked by another device (false: this device's own mark, echoed). */
  byOther: boolean;
}

/**
 * Why the link is as it is. `hub_unreachable`: the hub cannot be reached or dropped us (LAN
 * problem, hub restarting) — the client keeps retrying. `revoked`, `unauthorized`, `replaced`: final,
 * the client stops. `stopped`: close() was called.
 */
export type ConnectionCause =
  'connecting' | 'connected' | 'hub_unreachable' | 'revoked' | 'unauthorized' | 'replaced' | 'stopped';

export interface ConnectionEvent {
  state: 'connecting' | 'open' | 'closed';
  cause: ConnectionCause;
  /** The WebSocket close code, when there was one. */
  code?: number;
  /** When the next attempt starts (closed and retrying). */
  retryInMs?: number;
}

export interface DeviceEvents {
  hello: Hello;
  notification: Notification;
  done: DoneEvent;
  undo: DoneEvent;
  connection: ConnectionEvent;
  /** On every hello, then on each change. */
  internet: InternetState;
  /** An error message from the hub ({error, message}); the socket stays open. */
  protocolError: { error: string; message: string };
}

/** The WebSocket surface used here (the browser's, Node 22's global one and the `ws` package's). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike | Promise<SocketLike>;

export interface BackoffOptions {
  /** First retry waits up to this long (default 500 ms). */
  baseMs?: number;
  /** No wait is longer than this (default 15 s). */
  maxMs?: number;
}

export interface DeviceClientOptions extends BackoffOptions {
  /** ws://hub:8080/api/v1/lan/ws, or the hub's http(s) base URL (the path is added). */
  url: string;
  token: string;
  /** The highest seq this device already holds (from its own storage); omitted = the hub's acked position. */
  after?: number | null;
  /** Ack what was received (default true). */
  autoAck?: boolean;
  /** Reconnect after a drop (default true). */
  reconnect?: boolean;
  /** Ping interval (default 10 s); no word from the hub for two intervals drops the socket. */
  heartbeatMs?: number;
  /** Defaults to the global WebSocket, else the `ws` package. */
  socket?: SocketFactory;
  /** For tests: the random source of the jitter. */
  random?: () => number;
}

/** Close codes after which reconnecting cannot help (the hub's CLOSE codes). */
const FINAL: ReadonlyMap<number, ConnectionCause> = new Map([
  [4401, 'unauthorized'],
  [4403, 'revoked'],
  [4409, 'replaced'],
]);
const OPEN = 1;

/**
 * Exponential backoff with jitter, the service's one policy (src/core/backoff.ts): attempt n
 * (from 0) waits between half and all of min(maxMs, baseMs * 2^n). Always some wait (a hub that
 * restarts is not hammered), never the same wait on every device (they do not come back in lockstep).
 */
export function backoffDelay(
  attempt: number,
  o: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  return nextDelayMs(attempt + 1, { baseMs: o.baseMs ?? 500, capMs: o.maxMs ?? 15_000 }, random);
}

export function lanSocketUrl(raw: string): string {
  const u = new URL(raw);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/api/v1/lan/ws';
  return u.toString();
}

async function defaultSocket(url: string): Promise<SocketLike> {
  const G = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (G) return new G(url);
  // Node without a global WebSocket (before 22): the `ws` package. Kept out of browser bundles.
  const name = 'ws';
  const mod = (await import(/* @vite-ignore */ name)) as { default: new (url: string) => SocketLike };
  return new mod.default(url);
}

type Listener<T> = (v: T) => void;

export class DeviceClient {
  /** Highest seq handed to listeners (what the device should store). */
  lastSeq: number | null;
  /** The device this token belongs to (after the first hello). */
  deviceId: string | null = null;
  internet: InternetState = 'unknown';
  private ws: SocketLike | null = null;
  private stopped = true;
  private attempt = 0;
  private ackedSent = 0;
  private ackPending = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private beat: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;
  private readonly listeners = new Map<keyof DeviceEvents, Set<Listener<never>>>();

  constructor(private readonly o: DeviceClientOptions) {
    this.lastSeq = o.after ?? null;
  }

  on<K extends keyof DeviceEvents>(event: K, fn: Listener<DeviceEvents[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  private emit<K extends keyof DeviceEvents>(event: K, v: DeviceEvents[K]): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as Listener<DeviceEvents[K]>)(v);
  }

  /** Starts connecting (and reconnecting); resolves with the first hello, rejects on a final refusal. */
  connect(): Promise<Hello> {
    this.stopped = false;
    return new Promise((resolve, reject) => {
      const offHello = this.on('hello', (h) => {
        offHello();
        offConn();
        resolve(h);
      });
      const offConn = this.on('connection', (c) => {
        if (c.state === 'closed' && c.retryInMs === undefined) {
          offHello();
          offConn();
          reject(new Error(`device connection ended: ${c.cause}${c.code ? ` (${c.code})` : ''}`));
        }
      });
      void this.open();
    });
  }

  /** Marks this device's entry `seq` done; every target device of the row hears it. */
  done(seq: number): boolean {
    return this.sendMsg({ type: 'done', seq });
  }

  /** Takes a done mark back (within 5 minutes of it). */
  undo(seq: number): boolean {
    return this.sendMsg({ type: 'undo', seq });
  }

  /** Acknowledges every entry up to `seq` (automatic unless autoAck is false). */
  ack(seq: number = this.lastSeq ?? 0): boolean {
    if (seq <= this.ackedSent) return false;
    const ok = this.sendMsg({ type: 'ack', seq });
    if (ok) this.ackedSent = seq;
    return ok;
  }

  get connected(): boolean {
    return this.ws?.readyState === OPEN;
  }

  /** Acks what was received and closes; no more reconnects. */
  close(): void {
    if (this.o.autoAck ?? true) this.ack();
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopBeat();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close(1000, 'bye');
    }
    this.emit('connection', { state: 'closed', cause: 'stopped' });
  }

  private sendMsg(m: object): boolean {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify(m));
    return true;
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.emit('connection', { state: 'connecting', cause: 'connecting' });
    let ws: SocketLike;
    try {
      ws = await (this.o.socket ?? defaultSocket)(lanSocketUrl(this.o.url));
    } catch {
      return this.dropped(undefined);
    }
    if (this.stopped) return ws.close(1000, 'bye');
    this.ws = ws;
    ws.onopen = () => {
      // First-message auth works everywhere (browsers cannot set headers on a WebSocket).
      ws.send(JSON.stringify({ type: 'auth', token: this.o.token }));
      this.startBeat(ws);
    };
    ws.onmessage = (ev) => {
      this.lastHeard = Date.now();
      let m: { type?: unknown } & Record<string, unknown>;
      try {
        m = JSON.parse(String(ev.data)) as typeof m;
      } catch {
        return;
      }
      this.onMessage(ws, m);
    };
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.dropped(ev.code);
    };
  }

  private dropped(code: number | undefined): void {
    this.stopBeat();
    this.ackPending = false;
    if (this.stopped) return;
    const final = code === undefined ? undefined : FINAL.get(code);
    if (final || !(this.o.reconnect ?? true)) {
      this.stopped = true;
      this.emit('connection', { state: 'closed', cause: final ?? 'hub_unreachable', code });
      return;
    }
    const wait = backoffDelay(this.attempt++, this.o, this.o.random);
    this.emit('connection', { state: 'closed', cause: 'hub_unreachable', code, retryInMs: wait });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.open();
    }, wait);
  }

  private onMessage(ws: SocketLike, m: Record<string, unknown>): void {
    switch (m.type) {
      case 'hello': {
        const h = m as unknown as Hello;
        this.attempt = 0;
        this.deviceId = h.device;
        // A hub whose counter is behind what we hold (device re-created, store replaced) starts over.
        if (this.lastSeq !== null && h.lastSeq < this.lastSeq) this.lastSeq = null;
        this.ackedSent = this.lastSeq ?? h.ackedSeq;
        ws.send(
          JSON.stringify(
            this.lastSeq === null ? { type: 'resume' } : { type: 'resume', after: this.lastSeq },
          ),
        );
        if (this.lastSeq === null) this.lastSeq = h.ackedSeq;
        // Told on every connection (a page that just loaded needs it), then on each change.
        this.internet = h.internet ?? 'unknown';
        this.emit('internet', this.internet);
        this.emit('connection', { state: 'open', cause: 'connected' });
        this.emit('hello', h);
        return;
      }
      case 'notification': {
        const n = m as unknown as Notification & { type?: string };
        if (this.lastSeq !== null && n.seq <= this.lastSeq) return;
        this.lastSeq = n.seq;
        const { type: _t, ...rest } = n;
        this.emit('notification', rest);
        if ((this.o.autoAck ?? true) && !this.ackPending) {
          // One cumulative ack per burst (a replay of 500 costs one ack).
          this.ackPending = true;
          queueMicrotask(() => {
            this.ackPending = false;
            this.ack();
          });
        }
        return;
      }
      case 'done':
      case 'undo': {
        const d = m as unknown as Omit<DoneEvent, 'byOther'>;
        const ev: DoneEvent = {
          id: d.id,
          seq: d.seq,
          by: d.by,
          byName: d.byName,
          at: d.at,
          byOther: d.by !== this.deviceId,
        };
        this.emit(m.type, ev);
        return;
      }
      case 'status':
        this.setInternet(m.internet as InternetState);
        return;
      case 'error':
        this.emit('protocolError', { error: String(m.error), message: String(m.message) });
        return;
    }
  }

  private setInternet(s: InternetState): void {
    if (s === this.internet) return;
    this.internet = s;
    this.emit('internet', s);
  }

  /** Pings the hub; a hub silent for two intervals (half-open link, cable pulled) is given up on. */
  private startBeat(ws: SocketLike): void {
    this.stopBeat();
    const every = this.o.heartbeatMs ?? 10_000;
    this.lastHeard = Date.now();
    this.beat = setInterval(() => {
      if (Date.now() - this.lastHeard > 2 * every) {
        this.stopBeat();
        ws.onclose = null;
        ws.close(4000, 'hub silent');
        if (this.ws === ws) {
          this.ws = null;
          this.dropped(undefined);
        }
        return;
      }
      if (ws.readyState === OPEN) ws.send('{"type":"ping"}');
    }, every);
  }

  private stopBeat(): void {
    if (this.beat) clearInterval(this.beat);
    this.beat = null;
  }
}
