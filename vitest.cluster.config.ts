import { defineConfig } from 'vitest/config';

// Several Flow replicas on one PostgreSQL (test/cluster, issue #19): real `flow` processes started by
// test/cluster/replicas.ts on one PostgreSQL 15 per run (test/helpers/postgres-setup.ts), a
// database per replica set. Run by .ci/run after the PostgreSQL suite:
// `npx vitest run --config vitest.cluster.config.ts`. Kept out of `npm test`: each file starts
// several servers and waits out lease expiries (seconds by design).
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['test/helpers/postgres-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    env: { FLOW_PLUGINS_BUNDLED: 'false' },
  },
});
