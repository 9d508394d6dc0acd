import { z } from 'zod';

/** The LAN WebSocket protocol, shared by the hub and the reference device client. */
export const WS_PATH = '/api/v1/lan/ws';

const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().min(16).max(512) }).strict(),
  // `after`: the highest seq the device has; omitted = everything it has not acked.
  z.object({ type: z.literal('resume'), after: Seq.optional() }).strict(),
  // Cumulative: acknowledges every entry up to and including `seq`.
  z.object({ type: z.literal('ack'), seq: Seq }).strict(),
  z.object({ type: z.literal('ping') }).strict(),
  // Staff marked the entry `seq` done (bump), or take that back (within 5 minutes).
  z.object({ type: z.literal('done'), seq: Seq.min(1) }).strict(),
  z.object({ type: z.literal('undo'), seq: Seq.min(1) }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export interface HelloMessage {
  type: 'hello';
  device: string;
  role: string;
  tenant: string;
  /** Highest seq handed out to this device so far. */
  lastSeq: number;
  /** Highest seq the device has acknowledged. */
  ackedSeq: number;
  /** Can the hub reach its online providers? (LAN delivery works either way.) */
  internet: InternetState;
}

export type InternetState = 'up' | 'down' | 'unknown';

/** Who marked a row done, as carried by replayed notifications. */
export interface DoneInfo {
  by: string;
  byName: string;
  at: string;
}

/** A row was marked done (or the mark undone) on some target device; `seq` is this device's entry. */
export interface DoneMessage {
  type: 'done' | 'undo';
  id: string;
  seq: number;
  by: string;
  byName: string;
  at: string;
}

export interface StatusMessage {
  type: 'status';
  internet: InternetState;
}

export interface NotificationMessage {
  type: 'notification';
  seq: number;
  id: string;
  title: string | null;
  body: string | null;
  source: string;
  target: string;
  createdAt: string;
  /** Present on replayed entries already marked done. */
  done?: DoneInfo;
}

export interface ErrorMessage {
  type: 'error';
  error: string;
  message: string;
}

export type ServerMessage =
  | HelloMessage
  | NotificationMessage
  | ErrorMessage
  | DoneMessage
  | StatusMessage
  | { type: 'pong' }
  | { type: 'resumed'; after: number };

/** Close codes (4000-4999 are application codes). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  unauthorized: 4401,
  revoked: 4403,
  authTimeout: 4408,
  replaced: 4409,
  rateLimited: 4429,
} as const;
