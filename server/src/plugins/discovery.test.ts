import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkProtocolRange, diagnoseExecutable, parseRange, scanPluginsDir } from './discovery.js';

describe('checkProtocolRange', () => {
  it('accepts ranges that include 1.0 or 1.1 (a 1.1 host speaks 1.0 too)', () => {
    for (const range of [undefined, '1.0', '1.1', '1', '>=1.0 <2', '>=1', '<=1.0', '>0.9', '=1', '>1.0']) expect(checkProtocolRange(range)).toBeUndefined();
  });

  it('names both sides when the range excludes this host', () => {
    expect(checkProtocolRange('>=2.0 <3')).toBe('the plugin needs protocol >=2.0 <3; this server speaks 1.1');
    expect(checkProtocolRange('>1.1')).toBeDefined();
    expect(checkProtocolRange('1.2')).toBeDefined();
    expect(checkProtocolRange('2')).toBeDefined();
  });

  it('refuses text that is not a range', () => {
    expect(() => parseRange('^1.0')).toThrow('protocol range "^1.0" is not like ">=1.0 <2"');
    expect(() => parseRange('  ')).toThrow('empty protocol range');
  });
});

describe('scanPluginsDir', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('finds executables and manifest folders, skips the rest with a reason, ignores dotfiles', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flow-scan-'));
    await writeFile(path.join(dir, 'b-exec'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(path.join(dir, 'a-readme.md'), 'hi');
    await writeFile(path.join(dir, '.dot'), '#!/bin/sh\n', { mode: 0o755 });
    await mkdir(path.join(dir, 'c-folder'));
    await writeFile(path.join(dir, 'c-folder', 'plugin.yaml'), 'command: ./run.sh\nargs: [--x, 2]\nenv: { A: 1 }\nprotocol: ">=1.0 <2"\n');
    await mkdir(path.join(dir, 'd-empty'));
    await symlink('/nonexistent/target', path.join(dir, 'e-dangling'));
    const { plugins, skipped } = await scanPluginsDir(dir);
    expect(plugins.map((p) => [p.name, p.kind])).toEqual([
      ['b-exec', 'executable'],
      ['c-folder', 'manifest'],
    ]);
    expect(plugins[1]).toMatchObject({ command: path.join(dir, 'c-folder', 'run.sh'), args: ['--x', '2'], env: { A: '1' }, cwd: path.join(dir, 'c-folder'), protocol: '>=1.0 <2' });
    expect(skipped.map((s) => s.name)).toEqual(['a-readme.md', 'd-empty', 'e-dangling']);
    expect(skipped[0]!.reason).toBe('not executable (chmod +x it if it is a plugin)');
    expect(skipped[1]!.reason).toBe('folder without plugin.yaml');
  });

  it('changes the signature when a file is replaced', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flow-scan-'));
    const file = path.join(dir, 'p');
    await writeFile(file, '#!/bin/sh\n', { mode: 0o755 });
    const before = (await scanPluginsDir(dir)).plugins[0]!.signature;
    await rm(file);
    await writeFile(file, '#!/bin/sh\necho v2\n', { mode: 0o755 });
    expect((await scanPluginsDir(dir)).plugins[0]!.signature).not.toBe(before);
  });
});

describe('diagnoseExecutable', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('points at a missing interpreter and at binaries for another CPU', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flow-diag-'));
    const script = path.join(dir, 'script');
    await writeFile(script, '#!/usr/bin/no-such-interpreter -x\n');
    expect(await diagnoseExecutable(script)).toBe('its interpreter /usr/bin/no-such-interpreter (from "#!/usr/bin/no-such-interpreter -x") is missing or not executable');
    const elf = Buffer.alloc(64);
    elf.write('\x7fELF', 0, 'latin1');
    elf.writeUInt16LE(process.arch === 'arm64' ? 0x3e : 0xb7, 18);
    const binary = path.join(dir, 'binary');
    await writeFile(binary, elf);
    await chmod(binary, 0o755);
    expect(await diagnoseExecutable(binary)).toMatch(/^it is a binary for (x64|arm64), but this server runs on /);
    await writeFile(script, '#!/bin/sh\n');
    expect(await diagnoseExecutable(script)).toBeUndefined();
  });
});
