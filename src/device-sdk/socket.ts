import { nextDelayMs } from '../core/backoff.ts';
import type { BackoffOptions, ConnectionCause, SocketLike } from './types.ts';

/** Close codes after which reconnecting cannot help (the hub's CLOSE codes). */
export const FINAL: ReadonlyMap<number, ConnectionCause> = new Map([
  [4401, 'unauthorized'],
  [4403, 'revoked'],
  [4409, 'replaced'],
]);
/** WebSocket readyState OPEN (the same in every implementation). */
export const OPEN = 1;

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

/** The global WebSocket, else the `ws` package. */
export async function defaultSocket(url: string): Promise<SocketLike> {
  const G = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (G) return new G(url);
  // Node without a global WebSocket (before 22): the `ws` package. Kept out of browser bundles.
  const name = 'ws';
  const mod = (await import(/* @vite-ignore */ name)) as { default: new (url: string) => SocketLike };
  return new mod.default(url);
}
