import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_SCHEMA } from '../../src/config/schema.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function tableRows(heading: string): string[][] {
  const start = readme.indexOf(`## ${heading}`);
  expect(start, `README section ${heading}`).toBeGreaterThanOrEqual(0);
  const next = readme.indexOf('\n## ', start + 3);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return section
    .split('\n')
    .filter((l) => /^\| `/.test(l))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

describe('README stays true', () => {
  it('documents every env variable of the config schema, and no other', () => {
    const documented = tableRows('Configuration').map((r) => r[0]!.replace(/`/g, ''));
    expect(documented.sort()).toEqual(Object.keys(ENV_SCHEMA.shape).sort());
  });

  it('documents every error code with its HTTP status, and no other', () => {
    const rows = tableRows('Error codes').map((r) => [r[0]!.replace(/`/g, ''), Number(r[1])]);
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(Object.entries(ERROR_CODES).map(([k, v]) => [k, v.status])),
    );
  });

  it('keeps the two quick-start commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm install && npm test');
  });
});
