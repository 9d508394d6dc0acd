import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { HelloMessage, NotificationMessage, ServerMessage } from './protocol.ts';
import { CLOSE } from './protocol.ts';

export interface DeviceClientOptions {
  /** ws://hub:8080/api/v1/lan/ws (or the base URL; the path is added when missing). */
  url: string;
  token: string;
  /** 'header' (default): Authorization on the upgrade; 'message': first-message auth, as browsers do. */
  auth?: 'header' | 'message';
  /** The highest seq this device already has (from its own storage); omitted = the hub's acked position. */
  after?: number;
  /** Ack what was received (default true). */
  ack?: boolean;
  /** Reconnect after a drop, backing off from 250 ms to 5 s (default false). Stops on auth failures. */
  reconnect?: boolean;
  origin?: string;
}

/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSES: ReadonlySet<number> = new Set([CLOSE.unauthorized, CLOSE.revoked, CLOSE.replaced]);

export function wsUrl(raw: string): string {
  const u = new URL(raw);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/api/v1/lan/ws';
  return u.toString();
}

/**
 * The reference device client: connects, resumes after the last seq it has, delivers each
 * notification once and in order (duplicates after a reconnect are dropped by seq) and acks
 * cumulatively. Events: 'hello', 'notification', 'protocol-error' (an error message from the hub),
 * 'refused' (the upgrade was answered with an HTTP error), 'close'.
 */
export class DeviceClient extends EventEmitter {
  /** Highest seq received (and handed to listeners). */
  lastSeq: number | null;
  ws: WebSocket | null = null;
  private stopped = false;
  private ackTimer: NodeJS.Immediate | null = null;
  private ackedSent = 0;
  private backoff = 250;

  constructor(private readonly o: DeviceClientOptions) {
    super();
    this.lastSeq = o.after ?? null;
  }

  /** Resolves with the hello of the first connection; rejects if that connection fails. */
  connect(): Promise<HelloMessage> {
    this.stopped = false;
    return new Promise((resolve, reject) => {
      let settled = false;
      this.open(
        (h) => {
          if (!settled) {
            settled = true;
            resolve(h);
          }
        },
        (err) => {
          if (!settled) {
            settled = true;
            reject(err);
          }
        },
      );
    });
  }

  private open(onHello: (h: HelloMessage) => void, onFail: (err: Error) => void): void {
    const headers: Record<string, string> = {};
    if ((this.o.auth ?? 'header') === 'header') headers.authorization = `Bearer ${this.o.token}`;
    if (this.o.origin) headers.origin = this.o.origin;
    const ws = new WebSocket(wsUrl(this.o.url), { headers, perMessageDeflate: false });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => {
        const err = Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode} ${body}`), {
          status: res.statusCode,
          body,
        });
        onFail(err);
        ws.terminate();
        this.emit('refused', err);
      });
    });
    ws.on('open', () => {
      this.backoff = 250;
      if (this.o.auth === 'message') ws.send(JSON.stringify({ type: 'auth', token: this.o.token }));
    });
    ws.on('message', (data) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(data)) as ServerMessage;
      } catch {
        return;
      }
      this.onMessage(ws, msg, onHello);
    });
    ws.on('error', (err) => onFail(err));
    ws.on('close', (code, reason) => {
      if (this.ackTimer) clearImmediate(this.ackTimer);
      this.ackTimer = null;
      const r = reason.toString('utf8');
      onFail(new Error(`closed ${code} ${r}`));
      this.emit('close', code, r);
      if (this.o.reconnect && !this.stopped && !FINAL_CLOSES.has(code)) {
        const wait = this.backoff;
        this.backoff = Math.min(5_000, this.backoff * 2);
        setTimeout(() => {
          if (!this.stopped)
            this.open(
              () => undefined,
              () => undefined,
            );
        }, wait).unref();
      }
    });
  }

  private onMessage(ws: WebSocket, msg: ServerMessage, onHello: (h: HelloMessage) => void): void {
    switch (msg.type) {
      case 'hello': {
        // A hub whose counter is behind what we hold (device re-created, store reset) starts over.
        if (this.lastSeq !== null && msg.lastSeq < this.lastSeq) this.lastSeq = null;
        this.ackedSent = this.lastSeq ?? msg.ackedSeq;
        ws.send(
          JSON.stringify(
            this.lastSeq === null ? { type: 'resume' } : { type: 'resume', after: this.lastSeq },
          ),
        );
        if (this.lastSeq === null) this.lastSeq = msg.ackedSeq;
        this.emit('hello', msg);
        onHello(msg);
        return;
      }
      case 'notification': {
        if (this.lastSeq !== null && msg.seq <= this.lastSeq) return;
        this.lastSeq = msg.seq;
        // Scheduled before listeners run, so a listener that closes on the next turn closes after the ack.
        if (this.o.ack ?? true) this.scheduleAck(ws);
        this.emit('notification', msg as NotificationMessage);
        return;
      }
      case 'error':
        this.emit('protocol-error', msg);
        return;
      default:
        this.emit(msg.type, msg);
    }
  }

  /** One cumulative ack per burst of notifications (a replay of 500 costs one ack, not 500). */
  private scheduleAck(ws: WebSocket): void {
    if (this.ackTimer) return;
    this.ackTimer = setImmediate(() => {
      this.ackTimer = null;
      this.sendAck(ws);
    });
  }

  private sendAck(ws: WebSocket): void {
    if (this.lastSeq !== null && this.lastSeq > this.ackedSent && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: 'ack', seq: this.lastSeq }));
      this.ackedSent = this.lastSeq;
    }
  }

  /** Acks what was received, closes the socket (and stops reconnecting); resolves when it is closed. */
  close(): Promise<void> {
    this.stopped = true;
    const ws = this.ws;
    if (ws && (this.o.ack ?? true)) this.sendAck(ws);
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.close(CLOSE.normal, 'bye');
      setTimeout(() => ws.terminate(), 2_000).unref();
    });
  }
}
