import { describe, expect, it } from 'vitest';
import type { FaultSpec, Rejection } from './http-fake-base.ts';

/**
 * The fault behaviour every fake shares (hang, reset, 5xx, 429, malformed, times, counting), as one
 * reusable block of tests. Each fake's test file supplies a request that would otherwise succeed and
 * how its provider shapes 5xx and rate-limit answers.
 */

export interface FaultableFake {
  readonly url: string;
  readonly requestCount: number;
  readonly rejections: Rejection[];
  setFault(fault: FaultSpec): void;
  clearFault(): void;
  close(): Promise<void>;
}

export interface FaultContract<F extends FaultableFake> {
  /** The shared fake of the test file (created in its beforeAll). */
  fake: () => F;
  /** Starts a throw-away fake of the same kind (for the close-while-hanging case). */
  start: () => Promise<F>;
  /** A request the fake accepts when no fault is set. */
  send: (fake: F, signal?: AbortSignal) => Promise<Response>;
  okStatus: number;
  expect5xx: (res: Response, body: unknown) => void;
  expect429: (res: Response, body: unknown, retryAfterSeconds: number) => void;
}

export function describeFaultContract<F extends FaultableFake>(name: string, c: FaultContract<F>): void {
  describe(`${name}: fault injection`, () => {
    it('hang: the request is never answered, so a 200 ms AbortSignal timeout fires', async () => {
      const fake = c.fake();
      fake.setFault({ kind: 'hang', times: 1 });
      await expect(c.send(fake, AbortSignal.timeout(200))).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(fake.rejections.at(-1)).toMatchObject({ reason: 'fault:hang', status: null });
      expect((await c.send(fake)).status).toBe(c.okStatus);
    });

    it('hang: close() still ends the held request promptly', async () => {
      const fake = await c.start();
      fake.setFault({ kind: 'hang' });
      const pending = c.send(fake);
      await waitUntil(() => fake.requestCount === 1);
      const started = Date.now();
      await fake.close();
      await expect(pending).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('reset: the socket is destroyed and fetch fails', async () => {
      const fake = c.fake();
      fake.setFault({ kind: 'reset', times: 1 });
      await expect(c.send(fake)).rejects.toThrow(/fetch failed/);
      expect(fake.rejections.at(-1)).toMatchObject({ reason: 'fault:reset', status: null });
    });

    it('status5xx: the provider error shape, on every request until cleared', async () => {
      const fake = c.fake();
      fake.setFault({ kind: 'status5xx' });
      for (let i = 0; i < 2; i++) {
        const res = await c.send(fake);
        c.expect5xx(res, await res.json());
      }
      fake.clearFault();
      expect((await c.send(fake)).status).toBe(c.okStatus);
    });

    it('rate429: the provider rate-limit shape with the configured wait, for `times` requests', async () => {
      const fake = c.fake();
      fake.setFault({ kind: 'rate429', times: 2, retryAfterSeconds: 7 });
      for (let i = 0; i < 2; i++) {
        const res = await c.send(fake);
        c.expect429(res, await res.json(), 7);
      }
      expect((await c.send(fake)).status).toBe(c.okStatus);
    });

    it('malformed: 200 with a body that is not JSON', async () => {
      const fake = c.fake();
      fake.setFault({ kind: 'malformed', times: 1 });
      const res = await c.send(fake);
      expect(res.status).toBe(200);
      await expect(res.json()).rejects.toThrow(SyntaxError);
    });

    it('requestCount counts every request, faulted or not', async () => {
      const fake = c.fake();
      const before = fake.requestCount;
      fake.setFault({ kind: 'status5xx', times: 1 });
      await c.send(fake);
      await c.send(fake);
      expect(fake.requestCount).toBe(before + 2);
    });
  });
}

async function waitUntil(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('waitUntil: condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}
