import { defineConfig } from 'vitest/config';

// Long fault, chaos and fairness suites: `npm run test:chaos` (CI runs it after `npm test`).
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    setupFiles: ['test/setup/canary-sweep.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    passWithNoTests: false,
  },
});
