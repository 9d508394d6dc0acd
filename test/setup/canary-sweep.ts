import { afterAll, expect } from 'vitest';
import { leaks } from '../helpers/canary.ts';

// Suite-wide canary sweep: runs after every test file. Any canary seen in a response, a log line,
// a database row or a captured error fails that file.
afterAll(() => {
  expect(
    leaks,
    `secret canaries leaked:\n${leaks.map((l) => `${l.where}: ${l.names.join(',')} in ${l.sample}`).join('\n')}`,
  ).toEqual([]);
});
