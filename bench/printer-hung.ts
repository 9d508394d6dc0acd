/**
 * Acceptance 4 of the printers issue: a kitchen screen's enqueue-to-receipt latency with a hung
 * printer (accepts TCP, never reads) next to the latency without one, and the other printer's
 * enqueue-to-paper time. In-process service, real WebSocket and TCP. Not a test: it prints figures.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bin/run-ts.mjs bench/printer-hung.ts [--driver postgres|pglite] [--rounds 60] [--runs 3]
 */
import { measureHung } from '../test/printers/hung-scenario.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};
const driver = arg('driver', 'postgres') as 'postgres' | 'pglite';
const rounds = Number(arg('rounds', '60'));
const runs = Number(arg('runs', '3'));
const f = (n: number) => n.toFixed(1);

console.log(
  `printer-hung: driver ${driver}, ${rounds} rounds (a screen ticket + a printer ticket each, 50 ms apart), ${runs} runs`,
);
console.log('run | printer-01 | screen p50 ms | screen p95 ms | printer-02 printed | printer-02 max ms');
for (let r = 1; r <= runs; r++) {
  for (const hung of [false, true]) {
    const m = await measureHung(driver, hung, rounds);
    console.log(
      `${r} | ${hung ? 'hung' : 'healthy'} | ${f(m.screenP50Ms)} | ${f(m.screenP95Ms)} | ${m.otherPrinted}/${m.rounds} | ${f(m.otherMaxMs)}`,
    );
  }
}
process.exit(0);
