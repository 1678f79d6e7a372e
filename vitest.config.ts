import { defineConfig } from 'vitest/config';

// One runner for every package: unit tests sit beside their source as *.test.ts,
// black-box tests live under test/. Everything runs against the built packages
// (`npm test` builds first), the way the server and plugins really run.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
