import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { PYTHON } from '../../test/helpers/plugin-commands.js';

// webhook-forward's own logic in Python (test_webhook_forward.py): config checks, body rendering, and single
// deliveries against a real local HTTP server (statuses, retry classes, a refused connection).
const HERE = fileURLToPath(new URL('.', import.meta.url));
const KIT = fileURLToPath(new URL('../../plugin-kit/python', import.meta.url));

it('passes its Python unit tests', { timeout: 120_000 }, async () => {
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'unittest', 'test_webhook_forward'], { cwd: HERE, env: { ...process.env, PYTHONPATH: KIT }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.on('error', reject);
    child.on('close', (exit) => resolve({ code: exit, out: text }));
  });
  expect(out, out).toMatch(/^Ran \d+ tests in/m);
  expect(out, out).toMatch(/^OK$/m);
  expect(code).toBe(0);
});
