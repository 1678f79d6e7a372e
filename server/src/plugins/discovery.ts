import { constants } from 'node:fs';
import { access, open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseYamlBounded } from '../parse/bounded.js';
import { SUPPORTED_PROTOCOL_VERSIONS, parseVersion } from '@flow/protocol';

/** One entry of the plugins folder that looks like a plugin. */
export interface DiscoveredPlugin {
  /** The entry's name in the folder; unique, used in the admin endpoint and logs. */
  name: string;
  /** Absolute path of the entry (file or folder). */
  path: string;
  kind: 'executable' | 'manifest';
  command: string;
  args: string[];
  cwd: string;
  /** Extra environment from the manifest. */
  env: Record<string, string>;
  /** The manifest's protocol range, e.g. ">=1.0 <2"; checked before the plugin is spawned. */
  protocol?: string;
  /** Changes when the file (or the manifest or its command) is replaced: the watcher restarts the plugin. */
  signature: string;
  /** Shipped with Flow (plugins.bundled) rather than found in the plugins folder. */
  bundled?: boolean;
  /** The manifest's `permission`: who may use the plugin until an admin decides (default everyone). */
  defaultPermission?: 'everyone' | 'admins' | 'nobody';
}

export interface ScanResult {
  plugins: DiscoveredPlugin[];
  /** Entries that were skipped, each with the reason; logged as warnings. */
  skipped: { name: string; reason: string }[];
}

const MANIFEST = 'plugin.yaml';

const sig = (s: { ino: number; size: number; mtimeMs: number }) => `${s.ino}:${s.size}:${s.mtimeMs}`;

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lists the plugins in `dir`: executable files, and folders holding a plugin.yaml. Dotfiles
 * are ignored; anything else is skipped with a reason, never an error (a README in the
 * folder must not keep the server from starting: gotify/server#510). Lexical order.
 */
export async function scanPluginsDir(dir: string): Promise<ScanResult> {
  const result: ScanResult = { plugins: [], skipped: [] };
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  for (const name of names) {
    const full = path.join(dir, name);
    try {
      const st = await stat(full);
      if (st.isDirectory()) {
        const manifest = path.join(full, MANIFEST);
        const mst = await stat(manifest).catch(() => undefined);
        if (!mst) {
          result.skipped.push({ name, reason: `folder without ${MANIFEST}` });
          continue;
        }
        result.plugins.push(await fromManifest(name, full, await readFile(manifest, 'utf8'), sig(mst)));
      } else if (st.isFile()) {
        if (!(await isExecutable(full))) {
          result.skipped.push({ name, reason: 'not executable (chmod +x it if it is a plugin)' });
          continue;
        }
        result.plugins.push({ name, path: full, kind: 'executable', command: full, args: [], cwd: dir, env: {}, signature: sig(st) });
      } else {
        result.skipped.push({ name, reason: 'neither a file nor a folder' });
      }
    } catch (err) {
      result.skipped.push({ name, reason: (err as Error).message });
    }
  }
  return result;
}

async function fromManifest(name: string, folder: string, text: string, manifestSig: string): Promise<DiscoveredPlugin> {
  let doc: unknown;
  try {
    doc = parseYamlBounded(text, { maxBytes: 64 * 1024, what: MANIFEST });
  } catch (err) {
    throw new Error(`${MANIFEST} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${MANIFEST} must be a mapping with at least "command"`);
  const m = doc as Record<string, unknown>;
  if (typeof m.command !== 'string' || m.command.trim() === '') throw new Error(`${MANIFEST}: "command" must be a non-empty string`);
  const args = m.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string' || typeof a === 'number')) throw new Error(`${MANIFEST}: "args" must be a list of strings`);
  const env: Record<string, string> = {};
  if (m.env !== undefined && m.env !== null) {
    if (typeof m.env !== 'object' || Array.isArray(m.env)) throw new Error(`${MANIFEST}: "env" must be a mapping of names to strings`);
    for (const [k, v] of Object.entries(m.env)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new Error(`${MANIFEST}: env.${k} must be a string`);
      env[k] = String(v);
    }
  }
  if (m.permission !== undefined && !['everyone', 'admins', 'nobody'].includes(m.permission as string)) {
    throw new Error(`${MANIFEST}: "permission" must be everyone, admins or nobody`);
  }
  if (m.protocol !== undefined && typeof m.protocol !== 'string') throw new Error(`${MANIFEST}: "protocol" must be a range string like ">=1.0 <2"`);
  if (typeof m.protocol === 'string') parseRange(m.protocol);
  // A command with a slash is a path relative to the folder; a bare name is looked up in PATH.
  const command = m.command.includes('/') ? path.resolve(folder, m.command) : m.command;
  const argv = args.map(String);
  // The signature covers the files the manifest points at, so replacing the script restarts the plugin.
  const parts = [manifestSig];
  for (const candidate of [command, argv[0] === undefined ? undefined : path.resolve(folder, argv[0])]) {
    if (candidate === undefined || !path.isAbsolute(candidate)) continue;
    const st = await stat(candidate).catch(() => undefined);
    if (st?.isFile()) parts.push(sig(st));
  }
  return {
    name,
    path: folder,
    kind: 'manifest',
    command,
    args: argv,
    cwd: folder,
    env,
    protocol: m.protocol as string | undefined,
    signature: parts.join('|'),
    ...(m.permission === undefined ? {} : { defaultPermission: m.permission as 'everyone' | 'admins' | 'nobody' }),
  };
}

type Comparator = { op: '>=' | '>' | '<=' | '<' | '='; major: number; minor: number };

/** Parses a space-separated list of comparators (">=1.0 <2", "1.0", "=1"); throws on anything else. */
export function parseRange(range: string): Comparator[] {
  const parts = range.trim().split(/\s+/).filter((p) => p !== '');
  if (parts.length === 0) throw new Error(`${MANIFEST}: empty protocol range`);
  return parts.map((part) => {
    const match = /^(>=|<=|>|<|=)?(\d+)(?:\.(\d+))?$/.exec(part);
    if (!match) throw new Error(`${MANIFEST}: protocol range "${range}" is not like ">=1.0 <2"`);
    return { op: (match[1] ?? '=') as Comparator['op'], major: Number(match[2]), minor: match[3] === undefined ? -1 : Number(match[3]) };
  });
}

function satisfies(version: string, comparators: Comparator[]): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return comparators.every((c) => {
    // "2" means "2.x" for equality and "2.0" for bounds, as in semver ranges.
    if (c.op === '=') return v.major === c.major && (c.minor < 0 || v.minor === c.minor);
    const cmp = v.major !== c.major ? v.major - c.major : v.minor - Math.max(c.minor, 0);
    return c.op === '>=' ? cmp >= 0 : c.op === '>' ? cmp > 0 : c.op === '<=' ? cmp <= 0 : cmp < 0;
  });
}

/** Every version the host can speak: a minor release only adds, so speaking 1.1 is speaking 1.0 too. */
function spokenVersions(): string[] {
  return SUPPORTED_PROTOCOL_VERSIONS.flatMap((v) => {
    const parsed = parseVersion(v);
    return parsed ? Array.from({ length: parsed.minor + 1 }, (_, minor) => `${parsed.major}.${minor}`) : [];
  });
}

/** Undefined when the host speaks a version in the range; otherwise a message naming both sides. */
export function checkProtocolRange(range: string | undefined): string | undefined {
  if (range === undefined) return undefined;
  const comparators = parseRange(range);
  if (spokenVersions().some((v) => satisfies(v, comparators))) return undefined;
  return `the plugin needs protocol ${range}; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`;
}

/**
 * A hint for a plugin that died before the handshake: the usual causes are a wrong shebang,
 * a binary for another CPU, or a missing interpreter (hashicorp/go-plugin#183, PR #223).
 */
export async function diagnoseExecutable(file: string): Promise<string | undefined> {
  let head: Buffer;
  try {
    const fh = await open(file, 'r');
    try {
      head = Buffer.alloc(128);
      const { bytesRead } = await fh.read(head, 0, 128, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    return `cannot read ${file}: ${(err as Error).message}`;
  }
  if (head.subarray(0, 2).toString('latin1') === '#!') {
    const line = head.toString('utf8').split('\n')[0]!.slice(2).trim();
    const interpreter = line.split(/\s+/)[0] ?? '';
    if (!(await isExecutable(interpreter))) return `its interpreter ${interpreter} (from "#!${line}") is missing or not executable`;
    return undefined;
  }
  if (head.subarray(0, 4).toString('latin1') === '\x7fELF' && head.length >= 20) {
    const machine = head.readUInt16LE(18);
    const arch = ({ 0x3e: 'x64', 0xb7: 'arm64', 0x03: 'ia32', 0x28: 'arm', 0xf3: 'riscv64' } as Record<number, string>)[machine] ?? `machine 0x${machine.toString(16)}`;
    if (arch !== process.arch) return `it is a binary for ${arch}, but this server runs on ${process.arch}`;
    return undefined;
  }
  if (head.subarray(0, 4).toString('latin1') === '\xcf\xfa\xed\xfe' || head.subarray(0, 2).toString('latin1') === 'MZ') {
    return 'it is a macOS or Windows binary, not a Linux one';
  }
  return undefined;
}
