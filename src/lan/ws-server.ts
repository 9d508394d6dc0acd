import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { commaList } from '../config/schema.ts';
import type { Redactor } from '../core/redact.ts';
import { isAppError } from '../core/errors.ts';
import type { Db } from '../store/driver.ts';
import { authenticateDevice } from './devices.ts';
import type { LanHub } from './hub.ts';
import { ClientMessage, CLOSE, WS_PATH } from './protocol.ts';

/** A socket that authenticates with its first message must do so within this time. */
const AUTH_TIMEOUT_MS = 10_000;
/** Sockets waiting for their auth message, per process: the only sockets nobody vouched for yet. */
const MAX_PENDING_AUTH = 1_000;
/** Messages kept while a first-message auth is being checked. */
const MAX_EARLY_MESSAGES = 16;

export interface LanSocketDeps {
  db: Db;
  config: Config;
  logger: Logger;
  redactor: Redactor;
  hub: () => LanHub | null;
}

export function parseOrigins(raw: string): string[] {
  return commaList(raw)
    .map((s) => s.replace(/\/+$/, '').toLowerCase())
    .filter(Boolean);
}

/**
 * Browsers always send Origin on a WebSocket upgrade; native devices usually do not. No Origin is a
 * non-browser client (allowed: it authenticates with its token). A browser page is allowed when its
 * origin is listed in LAN_ALLOWED_ORIGINS or is this host itself (the owner panel).
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  const o = origin.trim().replace(/\/+$/, '').toLowerCase();
  if (allowed.includes(o)) return true;
  try {
    const u = new URL(o);
    return (
      (u.protocol === 'http:' || u.protocol === 'https:') &&
      host !== undefined &&
      u.host === host.toLowerCase()
    );
  } catch {
    return false;
  }
}

function bearerToken(header: string): string | null {
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{16,512})$/.exec(header.trim());
  return m?.[1] ?? null;
}

/** Refuses an upgrade with a plain HTTP answer in the API's error shape. */
function refuse(socket: Duplex, status: number, error: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Serves GET /api/v1/lan/ws on the Fastify server's upgrade event: origin check, device token from
 * the Authorization header (or the first message, for browsers), never from the query string.
 */
export function attachLanWebSocket(server: Server, deps: LanSocketDeps): { close(): void } {
  const { config, logger } = deps;
  const allowed = parseOrigins(config.env.LAN_ALLOWED_ORIGINS);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.env.LAN_MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const pending = new Set<WebSocket>();

  const fail = (socket: Duplex, err: unknown) => {
    const store = isAppError(err) && err.code === 'store_unavailable';
    logger.warn(
      { err: deps.redactor.scrub(err instanceof Error ? err.message : String(err)) },
      'LAN socket upgrade failed',
    );
    refuse(
      socket,
      503,
      store ? 'store_unavailable' : 'lan_unavailable',
      'The LAN hub cannot take connections right now.',
    );
  };

  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://lan.invalid');
    // Tokens in URLs end up in proxy and access logs: refuse them outright.
    if ([...url.searchParams.keys()].some((k) => /token|auth|key|secret/i.test(k))) {
      return refuse(
        socket,
        400,
        'bad_request',
        'Send the device token in the Authorization header or the first message, never in the URL.',
      );
    }
    if (!originAllowed(req.headers.origin, req.headers.host, allowed)) {
      return refuse(
        socket,
        403,
        'origin_not_allowed',
        'This page origin may not open the LAN socket; add it to LAN_ALLOWED_ORIGINS.',
      );
    }
    const hub = deps.hub();
    if (!hub) return refuse(socket, 503, 'lan_unavailable', 'The LAN hub is not running in this process.');
    const header = req.headers.authorization;
    if (header !== undefined) {
      const token = bearerToken(header);
      if (!token)
        return refuse(
          socket,
          401,
          'unauthorized',
          'The Authorization header must be "Bearer <device token>".',
        );
      const ident = await authenticateDevice(deps.db, token);
      if (!ident)
        return refuse(
          socket,
          401,
          'unauthorized',
          'The device token is unknown or revoked, or the device was removed.',
        );
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => hub.accept(ws, ident));
      return;
    }
    if (pending.size >= MAX_PENDING_AUTH) {
      return refuse(
        socket,
        429,
        'rate_limited',
        'Too many sockets are waiting to authenticate; try again shortly.',
      );
    }
    wss.handleUpgrade(req, socket, head, (ws) => awaitAuthMessage(ws));
  };

  const awaitAuthMessage = (ws: WebSocket) => {
    pending.add(ws);
    const early: [WebSocket.RawData, boolean][] = [];
    let state: 'waiting' | 'checking' | 'done' = 'waiting';
    const finish = () => {
      state = 'done';
      clearTimeout(timer);
      pending.delete(ws);
      ws.off('message', onMessage);
    };
    const timer = setTimeout(() => {
      finish();
      ws.close(CLOSE.authTimeout, 'authentication timed out');
    }, AUTH_TIMEOUT_MS);
    timer.unref();
    const reject = (reason: string) => {
      finish();
      ws.send(JSON.stringify({ type: 'error', error: 'unauthorized', message: reason }));
      ws.close(CLOSE.unauthorized, 'unauthorized');
    };
    const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
      if (state === 'checking') {
        if (early.length >= MAX_EARLY_MESSAGES)
          return reject('Too many messages before authentication finished.');
        early.push([data, isBinary]);
        return;
      }
      if (state !== 'waiting') return;
      let token: string | null = null;
      try {
        const m = ClientMessage.safeParse(JSON.parse(String(data)));
        if (m.success && m.data.type === 'auth') token = m.data.token;
      } catch {
        token = null;
      }
      if (isBinary || !token)
        return reject('The first message must be {"type":"auth","token":"<device token>"}.');
      state = 'checking';
      void authenticateDevice(deps.db, token).then(
        (ident) => {
          if (state !== 'checking') return;
          if (!ident) return reject('The device token is unknown or revoked, or the device was removed.');
          finish();
          if (ws.readyState !== ws.OPEN) return;
          const hub = deps.hub();
          if (!hub) {
            ws.close(CLOSE.goingAway, 'LAN hub stopped');
            return;
          }
          hub.accept(ws, ident, early);
        },
        (err) => {
          finish();
          logger.warn({ err: deps.redactor.scrub(String(err)) }, 'LAN socket auth failed');
          ws.close(CLOSE.internal, 'store unavailable');
        },
      );
    };
    ws.on('message', onMessage);
    ws.on('close', finish);
    ws.on('error', () => undefined);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WS_PATH) {
      // Another module may serve this path; answer only when nobody else listens.
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'not_found', `No WebSocket at ${path}.`);
      return;
    }
    socket.on('error', () => undefined);
    handle(req, socket, head).catch((err) => fail(socket, err));
  };
  server.on('upgrade', onUpgrade);

  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const ws of pending) ws.terminate();
      pending.clear();
    },
  };
}
