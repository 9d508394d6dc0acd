import { backoffDelay, defaultSocket, FINAL, lanSocketUrl, OPEN } from './socket.ts';
import type {
  DeviceClientOptions,
  DeviceEvents,
  DoneEvent,
  Hello,
  InternetState,
  Notification,
  SocketLike,
} from './types.ts';

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
