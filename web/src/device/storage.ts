/**
 * What the screen keeps in its own browser storage: its device token, the last seq it handled and
 * its recent items, so a reload, a hub restart or a long outage resumes exactly where it stood.
 */
import type { DoneInfo, Notification } from '../../../src/device-sdk/index.ts';

export interface Pairing {
  token: string;
  deviceId: string;
  name: string;
  role: string;
}

export interface Item extends Notification {
  done?: DoneInfo;
}

const PAIRING = 'mupza.device.pairing';
const LAST_SEQ = 'mupza.device.lastSeq';
const ITEMS = 'mupza.device.items';
const MUTED = 'mupza.device.muted';
/** Items kept on the screen (and in storage): the newest. */
export const KEEP_ITEMS = 200;

function read<T>(key: string): T | null {
  try {
    const v = localStorage.getItem(key);
    return v === null ? null : (JSON.parse(v) as T);
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or unavailable: the screen still works, it resumes from the hub's acked position.
  }
}

export const store = {
  pairing: () => read<Pairing>(PAIRING),
  setPairing: (p: Pairing | null) => write(PAIRING, p),
  lastSeq: () => read<number>(LAST_SEQ),
  setLastSeq: (n: number | null) => write(LAST_SEQ, n),
  items: () => read<Item[]>(ITEMS) ?? [],
  setItems: (items: readonly Item[]) => write(ITEMS, items.slice(0, KEEP_ITEMS)),
  muted: () => read<boolean>(MUTED) ?? false,
  setMuted: (m: boolean) => write(MUTED, m),
  /** Unpaired or removed by the owner: forget everything of this device. */
  clear: () => {
    for (const k of [PAIRING, LAST_SEQ, ITEMS]) write(k, null);
  },
};
