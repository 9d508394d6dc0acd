/**
 * Live updates: reads GET /api/v1/events (Server-Sent Events) with fetch + ReadableStream,
 * because EventSource cannot send the Authorization header. Reconnects with capped backoff.
 */
import { ApiError, api } from './api.ts';
import type { LiveEvent } from './types.ts';

export type LiveState = { kind: 'connecting' } | { kind: 'open' } | { kind: 'waiting'; seconds: number };

/** Splits an SSE byte stream (already decoded) into the data payloads of complete events. */
export class SseParser {
  private buffer = '';

  push(chunk: string): string[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const out: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''));
      if (data.length > 0) out.push(data.join('\n'));
    }
    return out;
  }
}

// Backoff after a dropped stream: 1 s doubling to 30 s; reset once a stream opens.
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

export function nextDelay(previousMs: number): number {
  return previousMs === 0 ? FIRST_DELAY_MS : Math.min(previousMs * 2, MAX_DELAY_MS);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs until `signal` aborts or the session ends (401). */
export async function runLiveStream(
  signal: AbortSignal,
  onEvent: (e: LiveEvent) => void,
  onState: (s: LiveState) => void,
): Promise<void> {
  let delay = 0;
  while (!signal.aborted) {
    onState({ kind: 'connecting' });
    try {
      const res = await api.events(signal);
      if (!res.body) throw new Error('no stream body');
      onState({ kind: 'open' });
      delay = 0;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const data of parser.push(value)) {
          try {
            onEvent(JSON.parse(data) as LiveEvent);
          } catch {
            // A malformed event is skipped; the next refetch brings the truth anyway.
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      // 401: the api wrapper already sent the user to sign-in.
      if (err instanceof ApiError && err.status === 401) return;
    }
    if (signal.aborted) return;
    delay = nextDelay(delay);
    onState({ kind: 'waiting', seconds: Math.round(delay / 1000) });
    await sleep(delay, signal);
  }
}
