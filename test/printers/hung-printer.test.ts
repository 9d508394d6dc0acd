import { describe, expect, it } from 'vitest';
import { drivers } from '../helpers/db.ts';
import { measureHung } from './hung-scenario.ts';

// Figures and the bench command: BENCHMARKS.md ("A hung printer"). PostgreSQL only (the durable
// store of a hub box); the bound is generous because the machine is shared.
const kinds = (await drivers()).filter((k) => k === 'postgres');
for (const kind of kinds) {
  describe(`acceptance 4: a hung printer delays neither the other printer nor any screen [${kind}]`, () => {
    it('screen latency with printer-01 hung stays within 2x of the latency without (plus slack); printer-02 prints everything', async () => {
      const base = await measureHung(kind, false);
      const hung = await measureHung(kind, true);
      expect(base.otherPrinted).toBe(base.rounds);
      expect(hung.otherPrinted).toBe(hung.rounds);
      expect(hung.screenP50Ms).toBeLessThanOrEqual(2 * base.screenP50Ms + 50);
      expect(hung.screenP95Ms).toBeLessThanOrEqual(2 * base.screenP95Ms + 150);
      // printer-02 never waits on printer-01's timeouts (0.4 s status, 1 s connect in tests).
      expect(hung.otherMaxMs).toBeLessThan(Math.max(2 * base.otherMaxMs, 1_500));
    });
  });
}
