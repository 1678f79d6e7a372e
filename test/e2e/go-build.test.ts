import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOW_PLUGIN_CLI, flowPlugin, type CliResult } from '../helpers/flow-plugin.js';

/**
 * `flow-plugin build-go` on packages as authors write them: the seed's example, a Gotify plugin
 * with its own subpackage, and the ways a package can be wrong (compiler errors with file and
 * line, Gotify's loader messages for missing or mistyped entry points, an import nobody
 * packaged, no Go at all).
 */

const MINIMAL_GO = fileURLToPath(new URL('../../plugins/minimal-go', import.meta.url));
const BUILD_TIMEOUT = 180_000;

const gotifyPlugin = (body: string, imports = '') => `package main

import (
	"github.com/gotify/plugin-api"${imports}
)

func GetGotifyPluginInfo() plugin.Info {
	return plugin.Info{Name: "t", ModulePath: "example.com/t"}
}

type P struct{}

func (p *P) Enable() error  { return nil }
func (p *P) Disable() error { return nil }
${body}
func main() { panic("this should be built as go plugin") }
`;

const NEW_INSTANCE = 'func NewGotifyPluginInstance(ctx plugin.UserContext) plugin.Plugin { return &P{} }\n';

describe('flow-plugin build-go', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'flow-go-authors-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** Writes a package folder from file name → content. */
  async function pkg(name: string, files: Record<string, string>): Promise<string> {
    const dir = path.join(work, name);
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    return dir;
  }

  const runExe = (file: string, args: string[]): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('builds the seed\'s example unchanged into a plugin executable that knows what it is', async () => {
    const out = path.join(work, 'minimal');
    const result = await flowPlugin(['build-go', MINIMAL_GO, '-o', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${out} (Flow plugin API; capabilities: none)\n`);
    const info = await runExe(out, ['--info']);
    expect(JSON.parse(info.stdout)).toEqual({ info: { name: 'minimal plugin', modulePath: 'github.com/Flow/server/example/minimal' }, capabilities: [], protocolVersions: ['1.0'] });
    // Run by hand it explains itself instead of panicking in main.
    const byHand = await runExe(out, []);
    expect(byHand.code).toBe(1);
    expect(byHand.stderr).toContain('is a Flow plugin');
    expect(byHand.stderr).not.toContain('this should be built as go plugin');
  }, BUILD_TIMEOUT);

  it('a Gotify plugin importing its own subpackage (go.mod module path) that prints in its init: the protocol stays clean', async () => {
    const dir = await pkg('noisy', {
      'go.mod': 'module example.com/noisy\n\ngo 1.19\n',
      // Imported first by main.go: initialised before the kit unless build-go moves stdout first.
      'aaa/aaa.go': 'package aaa\n\nimport "fmt"\n\nfunc init() { fmt.Println("printed by an init on stdout") }\n\nfunc Name() string { return "noisy" }\n',
      'main.go': gotifyPlugin(NEW_INSTANCE).replace('import (\n', 'import (\n\t"example.com/noisy/aaa"\n').replace('Name: "t"', 'Name: aaa.Name()'),
    });
    const out = path.join(work, 'noisy-out');
    const built = await flowPlugin(['build-go', dir, '-o', out]);
    expect(built.stderr).toBe('');
    expect(built.stdout).toBe(`${out} (Gotify plugin API; capabilities: none)\n`);
    const check = await flowPlugin(['check', '--only', 'handshake,stdout-frames', '--', out]);
    expect(check.stdout).toContain('2/2 passed');
    expect(check.code).toBe(0);
  }, BUILD_TIMEOUT);

  it('a package that does not compile: the compiler\'s errors, with the author\'s file and line', async () => {
    const dir = await pkg('broken', { 'main.go': gotifyPlugin(`${NEW_INSTANCE}\nfunc helper() int {\n\treturn "not a number"\n}\n`) });
    const result = await flowPlugin(['build-go', dir, '-o', path.join(work, 'broken-out')]);
    expect(result.code).toBe(1);
    const line = gotifyPlugin(`${NEW_INSTANCE}\nfunc helper() int {\n\treturn "not a number"\n}\n`).split('\n').findIndex((l) => l.includes('not a number')) + 1;
    expect(result.stderr).toMatch(new RegExp(`${dir.replace(/[.]/g, '\\.')}/main\\.go:${line}:\\d+: cannot use "not a number"`));
    expect(result.stderr).not.toContain('flow-build-go-');
  }, BUILD_TIMEOUT);

  it('a missing entry point fails with Gotify\'s loader message', async () => {
    const dir = await pkg('no-instance', { 'main.go': gotifyPlugin('') });
    const result = await flowPlugin(['build-go', dir, '-o', path.join(work, 'no-instance-out')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('missing NewGotifyPluginInstance symbol');
  }, BUILD_TIMEOUT);

  it('a wrong signature fails with Gotify\'s loader message, naming the type it got', async () => {
    const dir = await pkg('wrong-signature', { 'main.go': gotifyPlugin('func NewGotifyPluginInstance(ctx plugin.UserContext) *P { return &P{} }\n') });
    const result = await flowPlugin(['build-go', dir, '-o', path.join(work, 'wrong-out')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NewGotifyPluginInstance signature mismatch, func(ctx plugin.UserContext) plugin.Plugin expected, got func(plugin.UserContext) *main.P');
  }, BUILD_TIMEOUT);

  it('an import nobody installed names the Debian package to install', async () => {
    const dir = await pkg('unpackaged', { 'main.go': gotifyPlugin(`${NEW_INSTANCE}\nvar _ = cron.New\n`, '\n\t"github.com/no-such-owner/cron"') });
    const result = await flowPlugin(['build-go', dir, '-o', path.join(work, 'unpackaged-out')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot find package "github.com/no-such-owner/cron"');
    expect(result.stderr).toContain('golang-github-no-such-owner-cron-dev');
  }, BUILD_TIMEOUT);

  it('without Go: one line naming the packages; --optional skips outside CI, not under CI=true', async () => {
    // A PATH with nothing on it: node is started by its absolute path.
    const emptyBin = await mkdtemp(path.join(work, 'bin-'));
    const run = (args: string[], env: Record<string, string>): Promise<CliResult> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [FLOW_PLUGIN_CLI, 'build-go', MINIMAL_GO, '-o', path.join(work, 'never'), ...args], { env: { PATH: emptyBin, ...env } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const missing = await run([], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('flow-plugin build-go: Go is not installed (no "go" on PATH): install it, on Debian/Ubuntu: apt-get install golang-go golang-github-gin-gonic-gin-dev golang-gopkg-yaml.v3-dev\n');
    const optional = await run(['--optional'], {});
    expect(optional.code).toBe(0);
    expect(optional.stderr.trim().split('\n')).toHaveLength(1);
    expect(optional.stderr).toContain('skipped');
    const ci = await run(['--optional'], { CI: 'true' });
    expect(ci.code).toBe(1);
    await expect(readFile(path.join(work, 'never'))).rejects.toThrow();
  });
});
