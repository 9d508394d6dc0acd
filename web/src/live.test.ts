import { describe, expect, it } from 'vitest';
import { SseParser, nextDelay } from './live.ts';

describe('SseParser', () => {
  it('returns complete events only, across chunk boundaries', () => {
    const p = new SseParser();
    expect(p.push('data: {"type":"ping"}\n')).toEqual([]);
    expect(p.push('\ndata: {"type":"outbox","id":"a",')).toEqual(['{"type":"ping"}']);
    expect(p.push('"status":"sent"}\r\n\r\n: comment\n\n')).toEqual([
      '{"type":"outbox","id":"a","status":"sent"}',
    ]);
  });

  it('joins multi-line data and ignores other fields', () => {
    const p = new SseParser();
    expect(p.push('event: x\nid: 3\ndata: a\ndata: b\n\n')).toEqual(['a\nb']);
  });
});

describe('nextDelay', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    const seen: number[] = [];
    let d = 0;
    for (let i = 0; i < 7; i++) seen.push((d = nextDelay(d)));
    expect(seen).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});
