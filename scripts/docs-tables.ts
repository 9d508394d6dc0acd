/**
 * Rewrites the README's env and error-code tables from the config schema and the error registry
 * (between the <!-- env:start/end --> and <!-- errors:start/end --> markers). test/docs/readme.test.ts
 * fails when they drift.   node bin/run-ts.mjs scripts/docs-tables.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { envDescriptions } from '../src/config/schema.ts';
import { ERROR_CODES } from '../src/core/errors.ts';

const path = new URL('../README.md', import.meta.url);
let readme = readFileSync(path, 'utf8');
const env = ['| variable | default | what it does |', '|---|---|---|'];
for (const e of envDescriptions()) {
  const def = e.default === undefined ? '—' : e.default === '' ? '(empty)' : `\`${e.default}\``;
  env.push(`| \`${e.name}\` | ${def} | ${e.description.replace(/\|/g, '\\|')} |`);
}
const errs = ['| code | HTTP | meaning |', '|---|---|---|'];
for (const [k, v] of Object.entries(ERROR_CODES))
  errs.push(`| \`${k}\` | ${v.status} | ${v.description.replace(/\|/g, '\\|')} |`);

function replace(name: string, table: string[]): void {
  const re = new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->`);
  if (!re.test(readme)) throw new Error(`README has no ${name} markers`);
  readme = readme.replace(re, `<!-- ${name}:start -->\n${table.join('\n')}\n<!-- ${name}:end -->`);
}
replace('env', env);
replace('errors', errs);
writeFileSync(path, readme);
