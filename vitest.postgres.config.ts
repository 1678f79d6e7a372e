import { defineConfig } from 'vitest/config';

// The REST, /stream, plugin and Gotify compatibility suites again, every test server on
// PostgreSQL instead of LevelDB: one PostgreSQL 15 per run (test/helpers/postgres-setup.ts), a
// database per server (test/helpers/test-database.ts). Run by .ci/run after `npm test`:
// `npx vitest run --config vitest.postgres.config.ts`.
//
// Left out: suites about LevelDB itself or that never start a server through the helper
// (backups of <datadir>/db, disk-full, data-dir copies and LevelDB's log after a power cut, the Gotify import,
// which writes a LevelDB data dir, Go builds and golden replays).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    exclude: [
      '**/node_modules/**',
      '**/dist/**',
      'test/e2e/backup.test.ts',
      'test/e2e/reliability-disk-full.test.ts',
      'test/e2e/reliability-image-disk-full.test.ts',
      'test/e2e/reliability-data-dir-copy.test.ts',
      'test/e2e/reliability-durability.test.ts',
      'test/e2e/import-gotify*.test.ts',
      'test/e2e/go-*.test.ts',
      'test/e2e/replay-*.test.ts',
      'test/e2e/conformance.test.ts',
    ],
    globalSetup: ['test/helpers/postgres-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    env: { FLOW_PLUGINS_BUNDLED: 'false', FLOW_TEST_DATABASE: 'postgres' },
  },
});
