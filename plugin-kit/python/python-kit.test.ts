import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowPlugin } from '../../test/helpers/flow-plugin.js';

// The Python kit: its own unit tests (python3 -m unittest), nothing newer than Python 3.9, an offline
// `pip install` into a fresh venv, and a plugin bundled with the installed kit passing conformance.
const KIT = fileURLToPath(new URL('.', import.meta.url));
const PYTHON = ((): string => {
  // The interpreter itself, not a version manager's shim: each start through pyenv's costs ~1 s.
  const found = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : 'python3';
})();

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const pythonFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '__pycache__' || entry.name === 'build' ? [] : pythonFiles(full);
    return entry.name.endsWith('.py') ? [full] : [];
  });

describe('the Python kit (plugin-kit/python)', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'flow-python-kit-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('passes its unit tests', { timeout: 180_000 }, async () => {
    const result = await run(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], { cwd: KIT });
    expect(result.out, result.out).toMatch(/^Ran \d+ tests in/m);
    expect(result.out, result.out).toMatch(/^OK$/m);
    expect(result.code).toBe(0);
  });

  it('uses nothing newer than Python 3.9 syntax, in the kit and in the plugin written with it', async () => {
    const files = [...pythonFiles(KIT), path.join(KIT, '../../plugins/webhook-forward/webhook_forward.py')];
    // ast's feature_version refuses what 3.9's grammar lacks (match, parenthesised context managers, ...);
    // `X | Y` types are no syntax error, so annotations are checked for them too.
    const script = [
      'import ast, sys',
      'bad = []',
      'for name in sys.argv[1:]:',
      '    tree = ast.parse(open(name, encoding="utf-8").read(), name, feature_version=(3, 9))',
      '    for node in ast.walk(tree):',
      '        for ann in [getattr(node, "annotation", None), getattr(node, "returns", None)]:',
      '            if ann is not None and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr) for n in ast.walk(ann)):',
      '                bad.append("%s:%d: X | Y annotation needs 3.10" % (name, ann.lineno))',
      'print("\\n".join(bad) or "ok %d" % (len(sys.argv) - 1))',
      'sys.exit(1 if bad else 0)',
    ].join('\n');
    const result = await run(PYTHON, ['-c', script, ...files]);
    expect(result.out.trim()).toBe(`ok ${files.length}`);
    expect(result.code).toBe(0);
  });

  // A venv, an offline pip install and nine conformance cases: over 300 s on a machine whose cores
  // are busy (test/README.md "Under load"); the bound is against a hang.
  it('installs offline into a fresh venv with pip, and a plugin bundled with the installed kit passes conformance', { timeout: 900_000 }, async () => {
    const venv = path.join(scratch, 'venv');
    const made = await run(PYTHON, ['-m', 'venv', venv]);
    expect(made.code, made.out).toBe(0);
    // No index, no find-links, no config: only what is on this disk.
    const env: NodeJS.ProcessEnv = { ...process.env, PIP_NO_INDEX: '1', PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
    for (const key of Object.keys(env)) if (key.startsWith('PIP_') && !['PIP_NO_INDEX', 'PIP_CONFIG_FILE', 'PIP_DISABLE_PIP_VERSION_CHECK'].includes(key)) delete env[key];
    const installed = await run(path.join(venv, 'bin', 'pip'), ['install', KIT], { env, cwd: scratch });
    expect(installed.out).toMatch(/Successfully installed flow-plugin-kit-1\.1\.0/);
    expect(installed.code).toBe(0);
    const where = await run(path.join(venv, 'bin', 'python'), ['-c', 'import flow_plugin; print(flow_plugin.__version__, flow_plugin.__file__)'], { cwd: scratch });
    expect(where.out).toMatch(new RegExp(`^1\\.1\\.0 ${venv.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/lib/python3\\.\\d+/site-packages/flow_plugin/__init__\\.py`));

    const bundled = path.join(scratch, 'flow-greeter.pyz');
    const bundle = await run(path.join(venv, 'bin', 'flow-plugin-bundle'), [path.join(KIT, 'examples', 'greeter.py'), '-o', bundled], { cwd: scratch });
    expect(bundle.code, bundle.out).toBe(0);
    expect(existsSync(bundled)).toBe(true);
    const info = await run(bundled, ['--info']);
    expect(JSON.parse(info.out)).toMatchObject({ info: { name: 'greeter' }, capabilities: ['configurer', 'displayer', 'messenger', 'storager', 'webhooker'], protocolVersions: ['1.1'] });
    // The whole kit runs against webhook-forward (test/e2e/conformance.test.ts), made with the same kit;
    // here the cases that exercise the installed kit's own machinery.
    const cases = 'handshake,stdout-frames,bad-input-half-frame,config-yaml,config-json,slow-host-call,webhook-cancel,concurrent-webhooks,shutdown-in-flight';
    const check = await flowPlugin(['check', '--step-timeout', '15000', '--only', cases, '--', PYTHON, bundled]);
    expect(check.stdout, check.stdout).not.toMatch(/^ {2}(FAIL|XFAL|XPAS) /m);
    expect(check.stdout).toMatch(/PASS {2}slow-host-call /);
    expect(check.stdout).toMatch(/^9\/9 passed$/m);
    expect(check.code).toBe(0);
  });
});
