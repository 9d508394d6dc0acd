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
