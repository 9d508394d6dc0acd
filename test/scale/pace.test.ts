import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, drivers, type TestDb } from '../helpers/db.ts';
import { PostgresDb } from '../../src/store/pg-driver.ts';
import type { Db } from '../../src/store/driver.ts';
import { Pace, parsePace } from '../../src/dispatch/pace.ts';

describe('COMMS_PACE', () => {
  it('parses adapter=rate pairs and refuses unknown adapters and zero rates', () => {
    expect([...parsePace('telegram_bot=30, whatsapp_cloud=80.5')]).toEqual([
      ['telegram_bot', 30],
      ['whatsapp_cloud', 80.5],
    ]);
    expect(parsePace('').size).toBe(0);
    expect(() => parsePace('telegram=30')).toThrow(/unknown adapter id "telegram"/);
    expect(() => parsePace('smtp=0')).toThrow(/above 0/);
  });
});

for (const kind of await drivers()) {
  describe(`shared send pace [${kind}]`, () => {
    let t: TestDb;
    let other: Db;
    beforeAll(async () => {
      t = await createTestDb(kind);
      // A second process's pool on PostgreSQL; PGlite has one connection.
      other = kind === 'postgres' ? await PostgresDb.open(t.url!, 2) : t.db;
    });
    afterAll(async () => {
      if (other !== t.db) await other.close();
      await t.cleanup();
    });

    it('two dispatchers share one bucket: together they never get more than burst + rate x time', async () => {
      const a = new Pace(t.db, 'telegram_bot', 20);
      const b = new Pace(other, 'telegram_bot', 20);
      await a.take(1); // first use creates the bucket (full)
      const t0 = Date.now();
      let granted = 0;
      while (Date.now() - t0 < 1_000) {
        const [ga, gb] = await Promise.all([a.take(4), b.take(4)]);
        granted += ga.granted + gb.granted;
        if (ga.granted + gb.granted === 0) {
          expect(Math.max(ga.waitMs, gb.waitMs)).toBeGreaterThan(0);
          await new Promise((r) => setTimeout(r, Math.min(ga.waitMs, gb.waitMs)));
        }
      }
      const elapsed = (Date.now() - t0) / 1000;
      // Burst (20, minus the 1 taken above) plus 20/s refill, and more than half of it used.
      expect(granted).toBeLessThanOrEqual(19 + Math.ceil(20 * elapsed) + 1);
      expect(granted).toBeGreaterThan(20);
    });

    it('unused tokens go back; a provider rate-limit answer makes every dispatcher wait it out', async () => {
      const a = new Pace(t.db, 'whatsapp_cloud', 10);
      const b = new Pace(other, 'whatsapp_cloud', 10);
      await a.take(1);
      const g = await a.take(10);
      expect(g.granted).toBeGreaterThanOrEqual(8);
      await a.giveBack(g.granted);
      expect((await b.take(10)).granted).toBeGreaterThanOrEqual(8);
      await a.holdOff(2_000);
      await a.holdOff(2_000); // a second answer for the same moment does not double the wait
      const denied = await b.take(1);
      expect(denied.granted).toBe(0);
      expect(denied.waitMs).toBeGreaterThan(1_800);
      expect(denied.waitMs).toBeLessThanOrEqual(2_100);
    });
  });
}
