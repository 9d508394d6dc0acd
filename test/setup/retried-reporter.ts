import type { Reporter, TestCase } from 'vitest/node';

/**
 * Lists every test that passed only on a retry, so a flaky test is seen in CI output instead of
 * hidden by its retry (vitest.config.ts allows one retry).
 */
export default class RetriedReporter implements Reporter {
  private readonly retried: string[] = [];

  onTestCaseResult(testCase: TestCase): void {
    const retries = testCase.diagnostic()?.retryCount ?? 0;
    if (retries > 0)
      this.retried.push(
        `${testCase.module.moduleId} > ${testCase.fullName} (${testCase.result().state} after ${retries} retr${retries === 1 ? 'y' : 'ies'})`,
      );
  }

  onTestRunEnd(): void {
    process.stdout.write(
      this.retried.length === 0
        ? 'retried tests: none\n'
        : `retried tests (${this.retried.length}):\n${this.retried.map((r) => `  ${r}`).join('\n')}\n`,
    );
  }
}
