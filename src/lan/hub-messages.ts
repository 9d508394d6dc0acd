import type WebSocket from 'ws';
import type { Db } from '../store/driver.ts';
import { RATE_CAPACITY, type DeviceConnection } from './connection.ts';
import type { AckFlusher } from './hub-acks.ts';
import type { DoneSync } from './hub-done-sync.ts';
import { inboxPosition } from './inbox.ts';
import { ClientMessage, CLOSE } from './protocol.ts';

export interface DeviceMessagesDeps {
  db: Db;
  acks: AckFlusher;
  done: DoneSync;
  warn: (msg: string, err: unknown) => void;
}

/** What a device sends on its socket: rate-limited, parsed, then handled in order per socket. */
export class DeviceMessages {
  constructor(private readonly d: DeviceMessagesDeps) {}

  onMessage(conn: DeviceConnection, data: WebSocket.RawData, isBinary: boolean): void {
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
        this.d.warn('device message failed', err);
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
        if (after > conn.ackedSeq) this.d.acks.queueAck(conn, after);
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
        if (seq > conn.ackedSeq) this.d.acks.queueAck(conn, seq);
        return;
      }
      case 'done':
      case 'undo':
        if (!conn.started) {
          conn.sendError('not_resumed', `Send resume before ${msg.type}.`);
          return;
        }
        await this.d.done.doneOrUndo(conn, msg.type, msg.seq);
        return;
    }
  }
}
