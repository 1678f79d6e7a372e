import { spawnSync } from 'node:child_process';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The Go suite (Go plugins built with flow-plugin build-go) needs a Go toolchain. Without one it
// does not run, and one line says so; under CI a missing toolchain fails the run instead.
const GO_SUITE = ['test/e2e/go-*.test.ts', 'plugins/*-go/**/*.test.ts'];
const goMissing = spawnSync('go', ['version'], { stdio: 'ignore' }).error !== undefined && process.env.CI !== 'true';
if (goMissing) {
  console.warn('The Go suite did not run: no Go toolchain on PATH (apt-get install golang-go golang-github-gin-gonic-gin-dev golang-gopkg-yaml.v3-dev).');
}

// Vitest runs the files that took longest last time first, so the two workers finish together.
// A clean clone (CI) has no such record and vitest falls back to the largest files first; these
// are small but the longest of the suite (each runs many plugin processes), and started last
// they would add their whole duration to the run's tail.
const LONGEST = ['test/e2e/conformance.test.ts', 'plugin-kit/python/python-kit.test.ts', 'test/e2e/config.test.ts'];
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? LONGEST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

// One runner for every package: unit tests sit beside their source as *.test.ts,
// black-box tests live under test/. Everything runs against the built packages
// (`npm test` builds first), the way the server and plugins really run.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // test/slow: the packed package and the container, run by .ci/run (vitest.slow.config.ts).
    // test/cluster: several replicas on PostgreSQL, run by .ci/run (vitest.cluster.config.ts).
    exclude: ['**/node_modules/**', '**/dist/**', 'test/slow/**', 'test/cluster/**', 'build/**', ...(goMissing ? GO_SUITE : [])],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Servers the tests start (in process or as the bin) load only the plugins each test puts in
    // its plugins folder; the shipped ones are tested on their own (test/e2e/bundled-plugins).
    env: { FLOW_PLUGINS_BUNDLED: 'false' },
    sequence: { sequencer: LongestFirst },
  },
});
