import { describe, expect, it } from 'vitest';
import { Publisher } from '../../src/store/publisher.ts';

function recorder() {
  const local: string[] = [];
  const sent: { at: number; notices: [string, string][] }[] = [];
  const t0 = performance.now();
  const p = new Publisher(
    (_c, payload) => local.push(payload),
    async (notices) => {
      sent.push({ at: performance.now() - t0, notices });
    },
  );
  return { p, local, sent };
}

const tick = () => new Promise((r) => setImmediate(r));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('publisher: change notices after commit', () => {
  it('urgent notices of one tick leave as one NOTIFY at the next tick; local listeners get them at once', async () => {
    const { p, local, sent } = recorder();
    p.publish('outbox_events', 'a');
    p.publish('outbox_events', 'b');
    expect(local).toEqual(['a', 'b']);
    expect(sent).toHaveLength(0);
    await tick();
    await tick();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.notices).toHaveLength(1);
    expect(p.unwrap(sent[0]!.notices[0]![1])).toEqual([]); // our own echo is skipped
    expect(JSON.parse(sent[0]!.notices[0]![1].slice(1)).m).toEqual(['a', 'b']);
  });

  it('lazy notices wait to share a NOTIFY, and an urgent one takes them along at once', async () => {
    const { p, sent } = recorder();
    p.publish('outbox_events', 'status-1', true);
    await tick();
    p.publish('outbox_events', 'status-2', true);
    await tick();
    expect(sent).toHaveLength(0);
    await wait(40);
    expect(sent).toHaveLength(1);
    expect(JSON.parse(sent[0]!.notices[0]![1].slice(1)).m).toEqual(['status-1', 'status-2']);

    p.publish('outbox_events', 'status-3', true);
    p.publish('auth_changed', 'api_tokens');
    await tick();
    await tick();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.notices.map(([c]) => c).sort()).toEqual(['auth_changed', 'outbox_events']);
    await wait(40);
    expect(sent).toHaveLength(2); // the lazy timer was cleared with the flush: no empty NOTIFY
  });
});
