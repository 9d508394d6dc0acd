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
    // Several suites measure time or kill processes on a 2-core box; one retry absorbs a scheduling
    // hiccup without hiding a real failure (a broken invariant fails both runs).
    retry: 1,
  },
});
