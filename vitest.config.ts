import { defineConfig } from 'vitest/config';

// Suites whose assertions are latency bounds from the issues (in_app p99 during an OTP flood and
// with every online provider hung, webhook answer p99 while processing stalls). They run after
// everything else, one file at a time, so they measure the service and not the neighbouring test
// files on a 2-core box.
const LATENCY = [
  'test/otp/unavailable.test.ts',
  'test/webhooks/ack-latency.test.ts',
  'test/lan/online-hung.test.ts',
];

export default defineConfig({
  test: {
    setupFiles: ['test/setup/canary-sweep.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: two files at a time keeps PostgreSQL and PGlite suites from starving each other.
    maxWorkers: 2,
    // Several suites start processes, kill them and wait on timers on a 2-core box: one retry
    // absorbs a scheduling hiccup without hiding a real failure (a broken invariant fails both
    // runs). Every retried test is listed in the CI output (test/setup/retried-reporter.ts).
    retry: 1,
    projects: [
      {
        extends: true,
        test: {
          name: 'suites',
          include: ['test/**/*.test.ts', 'web/src/**/*.test.ts'],
          exclude: ['test/chaos/**', 'node_modules/**', ...LATENCY],
          fileParallelism: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'latency',
          include: LATENCY,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
