import { randomBytes } from 'node:crypto';
import { SECRET_ENV_NAMES } from '../../src/config/schema.ts';

/**
 * One unique canary per secret env name for the whole test run. Tests configure providers with
 * these values; the suite-wide sweep fails if any canary shows up in a response, a log line, a
 * stored row or an error.
 */
const RUN = process.env.CANARY_RUN ?? randomBytes(4).toString('hex');

function canaryFor(name: string): string {
  // Shapes that pass each variable's own validation (e.g. Telegram secrets allow [A-Za-z0-9_-]).
  return `cnry_${name.toLowerCase()}_${RUN}`;
}

export const CANARIES: Record<string, string> = Object.fromEntries(
  SECRET_ENV_NAMES.filter((n) => n !== 'DATABASE_URL').map((n) => [n, canaryFor(n)]),
);

export function findCanaries(text: string): string[] {
  return Object.entries(CANARIES)
    .filter(([, v]) => text.includes(v) || text.includes(Buffer.from(v).toString('base64')))
    .map(([k]) => k);
}

/** Leaks seen in this test file; the sweep (test/setup/canary-sweep.ts) fails the file on any. */
export const leaks: { where: string; names: string[]; sample: string }[] = [];

export function checkForCanaries(where: string, text: string): void {
  const names = findCanaries(text);
  if (names.length) leaks.push({ where, names, sample: text.slice(0, 300) });
}

export const CANARY_SUFFIX = RUN;
