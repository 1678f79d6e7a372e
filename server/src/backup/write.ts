import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Level } from 'level';
import { BACKUP_FORMAT, BACKUP_VERSION, SAFE_FILE, type BackupHeader } from './format.js';

/**
 * The archive of a running server as a stream (format.ts). The database part is one LevelDB
 * snapshot: the iterator is created before anything else is read, so it holds every write
 * acknowledged before the backup began and none half-applied, while the server keeps
 * accepting writes. Entries are read in batches of `batchSize` and written as the consumer
 * reads (backpressure), so memory stays flat for any database size. Images are write-once
 * files; one deleted while the backup runs is left out.
 */
export function backupStream(opts: { level: Level<string, string>; imagesDir: string; flowVersion: string; batchSize?: number }): Readable {
  const iterator = opts.level.iterator({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
  const batchSize = opts.batchSize ?? 1000;
  async function* generate(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    const out = (b: Buffer) => {
      hash.update(b);
      return b;
    };
    let entries = 0;
    let files = 0;
    try {
      const header: BackupHeader = { format: BACKUP_FORMAT, version: BACKUP_VERSION, flow: opts.flowVersion, createdAt: new Date().toISOString() };
      yield out(Buffer.from(JSON.stringify(header) + '\n'));
      for (;;) {
        const batch = await iterator.nextv(batchSize);
        if (batch.length === 0) break;
        let text = '';
        for (const [k, v] of batch) text += JSON.stringify({ k, v }) + '\n';
        entries += batch.length;
        yield out(Buffer.from(text));
      }
    } finally {
      await iterator.close();
    }
    const names = await readdir(opts.imagesDir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const rel = `images/${name}`;
      if (!SAFE_FILE.test(rel)) continue;
      const full = path.join(opts.imagesDir, name);
      const st = await stat(full).catch(() => undefined);
      if (!st?.isFile()) continue;
      // Read it whole before the record: its size must be known up front, and it may vanish.
      const chunks: Buffer[] = [];
      try {
        for await (const c of createReadStream(full)) chunks.push(c as Buffer);
      } catch {
        continue;
      }
      const data = Buffer.concat(chunks);
      yield out(Buffer.from(JSON.stringify({ f: rel, size: data.length }) + '\n'));
      yield out(data);
      yield out(Buffer.from('\n'));
      files++;
    }
    yield Buffer.from(JSON.stringify({ end: true, entries, files, sha256: hash.digest('hex') }) + '\n');
  }
  return Readable.from(generate(), { objectMode: false });
}
