import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'web/src/**/*.test.ts'],
    exclude: ['test/chaos/**', 'node_modules/**'],
    setupFiles: ['test/setup/canary-sweep.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: two files at a time keeps PostgreSQL and PGlite suites from starving each other.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
