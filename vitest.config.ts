import { defineConfig } from 'vitest/config';

// One runner for every package: unit tests sit beside their source as *.test.ts,
// black-box tests live under test/. Everything runs against the built packages
// (`npm test` builds first), the way the server and plugins really run.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // test/slow: the packed package and the container, run by .ci/run (vitest.slow.config.ts).
    exclude: ['**/node_modules/**', '**/dist/**', 'test/slow/**', 'build/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Servers the tests start (in process or as the bin) load only the plugins each test puts in
    // its plugins folder; the shipped ones are tested on their own (test/e2e/bundled-plugins).
    env: { FLOW_PLUGINS_BUNDLED: 'false' },
  },
});
