import { defineConfig } from 'vitest/config';

// Slow suites that go through real artefacts (the packed tarball, a container): run by .ci/run
// after `npm test`, each bounded with `timeout` there. `npx vitest run --config vitest.slow.config.ts`.
export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 300_000,
    hookTimeout: 900_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
