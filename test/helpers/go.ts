/**
 * The Go plugins' test support: whether the Go suite runs on this machine, and building a Go
 * plugin package with `flow-plugin build-go` (sharing build-go's cache, so after the first build
 * of a run each build only links).
 *
 * Without a Go toolchain the Go suite does not run (vitest.config.ts leaves its files out and
 * says so in one line) unless CI=true, where a missing toolchain must fail the run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { flowPlugin } from './flow-plugin.js';

export const GO_AVAILABLE = spawnSync('go', ['version'], { stdio: 'ignore' }).error === undefined;

/** True when Go plugins are built and tested: Go is installed, or CI demands it. */
export const GO_SUITE_RUNS = GO_AVAILABLE || process.env.CI === 'true';

/** A plugin folder holding Go sources (plugins/minimal-go, plugins/echo-go). */
export const isGoPackage = (dir: string): boolean => existsSync(dir) && readdirSync(dir).some((name) => name.endsWith('.go'));

/** Builds `dir` into `out` with build-go; rejects with build-go's output when it fails. */
export async function buildGo(dir: string, out: string): Promise<string> {
  const result = await flowPlugin(['build-go', dir, '-o', out]);
  if (result.code !== 0) throw new Error(`flow-plugin build-go ${dir} failed (${result.code}):\n${result.stderr}`);
  return path.resolve(out);
}
