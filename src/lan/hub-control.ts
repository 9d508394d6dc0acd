/** The channel on which hubs tell each other of revocations, socket take-overs and done marks. */
export const CONTROL_CHANNEL = 'lan_control';

/** Done/undo fan-out entries per NOTIFY (each ~40 bytes; PostgreSQL caps a payload at 8000). */
export const DONE_CHUNK = 120;

export type ControlMessage =
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

export type DoneControl = Extract<ControlMessage, { k: 'done' }>;

/** A control payload, or null when it is not JSON (never from a hub; ignored). */
export function parseControl(payload: string): ControlMessage | null {
  try {
    return JSON.parse(payload) as ControlMessage;
  } catch {
    return null;
  }
}
