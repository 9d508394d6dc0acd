// Fails CI when the PostgreSQL or browser suites did not run: it reads vitest's JSON report and
// requires passed tests whose names carry "[postgres]" and "[browser]", none of them skipped.
// PGlite tests must run too ("[pglite]"); a few PostgreSQL-only cases inside them may skip.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const tests = report.testResults.flatMap((f) =>
  f.assertionResults.map((a) => ({ name: a.fullName ?? a.title, status: a.status })),
);
let failed = false;
for (const tag of ['[postgres]', '[pglite]', '[browser]']) {
  const mine = tests.filter((t) => t.name.includes(tag));
  const passed = mine.filter((t) => t.status === 'passed').length;
  const skipped = mine.filter(
    (t) => t.status === 'skipped' || t.status === 'pending' || t.status === 'todo',
  ).length;
  console.log(`${tag}: ${passed} passed, ${skipped} skipped, ${mine.length} total`);
  if (passed === 0 || (tag !== '[pglite]' && skipped > 0)) failed = true;
}
console.log(
  `all: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`,
);
if (failed || report.numFailedTests > 0) {
  console.error('required suites were skipped or failed');
  process.exit(1);
}
