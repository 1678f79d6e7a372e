/**
 * The Go toolchain as build-go uses it: Debian's Go in GOPATH mode, offline, with Debian's gin
 * and yaml.v3 from /usr/share/gocode, and a build cache of its own under the user's cache dir
 * (so a second build of any plugin only links).
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';

export const DEBIAN_PACKAGES = 'golang-go golang-github-gin-gonic-gin-dev golang-gopkg-yaml.v3-dev';

/** Where Debian's golang-*-dev packages put their sources. */
export const SYSTEM_GOPATH = '/usr/share/gocode';

export const MISSING_GO = `Go is not installed (no "go" on PATH): install it, on Debian/Ubuntu: apt-get install ${DEBIAN_PACKAGES}`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class GoMissingError extends Error {}

/** Runs a command; rejects with GoMissingError when `go` itself is not found. */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' && command === 'go' ? new GoMissingError(MISSING_GO) : error));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The build cache shared by every build-go run: FLOW_GO_CACHE, else <user cache dir>/flow/go-build. */
export function goCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLOW_GO_CACHE) return env.FLOW_GO_CACHE;
  const base = env.XDG_CACHE_HOME || (process.platform === 'darwin' ? path.join(homedir(), 'Library', 'Caches') : path.join(homedir(), '.cache'));
  return path.join(base, 'flow', 'go-build');
}

/** The environment of a GOPATH-mode build in `gopath`. */
export function goEnv(gopath: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    GO111MODULE: 'off',
    GOPATH: [gopath, ...(env.FLOW_GOPATH ? env.FLOW_GOPATH.split(path.delimiter) : []), SYSTEM_GOPATH].join(path.delimiter),
    GOCACHE: goCacheDir(env),
    GOFLAGS: '',
    GOPROXY: 'off',
  };
}

/** Resolves with "go1.19.8"-style version text, or rejects with GoMissingError. */
export async function goVersion(): Promise<string> {
  const result = await run('go', ['env', 'GOVERSION'], { env: process.env });
  if (result.code !== 0) throw new GoMissingError(`"go env GOVERSION" failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}
