import { expect } from 'vitest';
import type { TestHost } from '../src/testing.js';

/**
 * Ends a test's host (if the test made one) and fails the test if the plugin sent anything the
 * protocol's schemas reject. The violations are read before `close`, which adds the shutdown's.
 * For an `afterEach`: `await closedClean(host); host = undefined;`.
 */
export async function closedClean(host: TestHost | undefined): Promise<void> {
  if (!host) return;
  const violations = host.violations;
  await host.close();
  expect(violations).toEqual([]);
}
