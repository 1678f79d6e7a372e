import { createHash, type Hash } from 'node:crypto';
import { open, mkdir, readdir, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { FlowError } from '../errors.js';
import { BACKUP_FORMAT, BACKUP_VERSION, SAFE_FILE, type BackupHeader, type BackupTrailer } from './format.js';

const refuse = (msg: string) => new FlowError('FLOW_ERR_CONFIG_INVALID', msg);

/** Reads lines and byte runs from a file in 1 MiB chunks, hashing what it hands out. */
class Reader {
  private buf = Buffer.alloc(0);
  private eof = false;
  constructor(
    private readonly fh: FileHandle,
    readonly hash: Hash,
  ) {}

  private async fill(): Promise<boolean> {
    if (this.eof) return false;
    const chunk = Buffer.alloc(1024 * 1024);
    const { bytesRead } = await this.fh.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) {
      this.eof = true;
      return false;
    }
    this.buf = this.buf.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([this.buf, chunk.subarray(0, bytesRead)]);
    return true;
  }

  /** The next line without its "\n"; undefined at the end of the file (or a last line without "\n"). */
  async line(hashIt = true): Promise<string | undefined> {
    let from = 0;
    for (;;) {
      const nl = this.buf.indexOf(10, from);
      if (nl >= 0) {
        const line = this.buf.subarray(0, nl);
        if (hashIt) this.hash.update(this.buf.subarray(0, nl + 1));
        this.buf = this.buf.subarray(nl + 1);
        return line.toString('utf8');
      }
      from = this.buf.length;
      if (from > 64 * 1024 * 1024) throw refuse('backup is damaged: a record line is longer than 64 MiB');
      if (!(await this.fill())) return undefined;
    }
  }

  async bytes(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) if (!(await this.fill())) return undefined;
    const out = Buffer.from(this.buf.subarray(0, n));
    this.hash.update(out);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

interface Sink {
  entry(k: string, v: string): Promise<void>;
  file(rel: string, data: Buffer): Promise<void>;
}

/** One pass over the archive; throws with the reason on anything but a complete, intact, known archive. */
async function readArchive(file: string, sink: Sink | undefined): Promise<{ header: BackupHeader; trailer: BackupTrailer }> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw refuse(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const r = new Reader(fh, createHash('sha256'));
    const first = await r.line();
    let header: BackupHeader;
    try {
      header = JSON.parse(first ?? '') as BackupHeader;
    } catch {
      throw refuse(`${file} is not a Flow backup`);
    }
    if (header?.format !== BACKUP_FORMAT) throw refuse(`${file} is not a Flow backup`);
    if (!Number.isInteger(header.version) || header.version > BACKUP_VERSION) {
      throw refuse(`${file} is a backup format version ${header.version} written by Flow ${header.flow}, newer than this Flow supports (${BACKUP_VERSION}): upgrade Flow first`);
    }
    let entries = 0;
    let files = 0;
    for (;;) {
      // The trailer is not part of the checksum: peek without hashing, then decide.
      const line = await r.line(false);
      if (line === undefined) throw refuse(`${file} is truncated: it ends before the backup's end record`);
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw refuse(`${file} is damaged: record ${entries + files + 1} is not JSON`);
      }
      if (rec.end === true) {
        const trailer = rec as unknown as BackupTrailer;
        const sum = r.hash.digest('hex');
        if (trailer.sha256 !== sum || trailer.entries !== entries || trailer.files !== files) {
          throw refuse(`${file} is damaged: its checksum does not match its contents`);
        }
        if ((await r.line(false)) !== undefined) throw refuse(`${file} is damaged: data after the end record`);
        return { header, trailer };
      }
      r.hash.update(line + '\n');
      if (typeof rec.k === 'string' && typeof rec.v === 'string') {
        entries++;
        await sink?.entry(rec.k, rec.v);
      } else if (typeof rec.f === 'string' && Number.isSafeInteger(rec.size) && (rec.size as number) >= 0) {
        if (!SAFE_FILE.test(rec.f)) throw refuse(`${file} is damaged: unexpected file name ${JSON.stringify(rec.f)}`);
        const data = await r.bytes(rec.size as number);
        const nl = data === undefined ? undefined : await r.bytes(1);
        if (data === undefined || nl === undefined) throw refuse(`${file} is truncated: it ends inside ${rec.f}`);
        files++;
        await sink?.file(rec.f, data);
      } else {
        throw refuse(`${file} is damaged: unknown record ${line.slice(0, 80)}`);
      }
    }
  } finally {
    await fh.close();
  }
}

/** Checks a whole archive (complete, intact, a format this Flow reads) without writing anything. */
export async function verifyBackup(file: string): Promise<{ header: BackupHeader; trailer: BackupTrailer }> {
  return readArchive(file, undefined);
}

/**
 * `flow restore <file> --datadir <dir>`: checks the whole archive first (complete, intact, a
 * format this Flow reads) and only then writes `<dir>/db` and `<dir>/images`. The target must
 * be empty or absent. A failure while writing removes what was written.
 */
export async function restoreBackup(file: string, datadir: string): Promise<{ header: BackupHeader; entries: number; files: number }> {
  const existing = await readdir(datadir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw refuse(`cannot use ${datadir}: ${err.code ?? err.message}`);
  });
  if (existing.length > 0) throw refuse(`${datadir} is not empty: restore into an empty or new folder`);
  const { header, trailer } = await readArchive(file, undefined);

  const created = existing.length === 0;
  await mkdir(path.join(datadir, 'images'), { recursive: true });
  const level = new Level<string, string>(path.join(datadir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    await level.open();
    let batch = level.batch();
    await readArchive(file, {
      async entry(k, v) {
        batch.put(k, v);
        if (batch.length >= 1000) {
          await batch.write();
          batch = level.batch();
        }
      },
      async file(rel, data) {
        await writeFile(path.join(datadir, rel), data, { flag: 'wx' });
      },
    });
    await batch.write();
    await level.close();
  } catch (err) {
    await level.close().catch(() => undefined);
    if (created) for (const name of await readdir(datadir).catch(() => [] as string[])) await rm(path.join(datadir, name), { recursive: true, force: true });
    throw err;
  }
  return { header, entries: trailer.entries, files: trailer.files };
}
