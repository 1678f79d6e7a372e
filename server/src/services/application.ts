import { mkdir, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HttpError, badRequest, notFound } from '../errors.js';
import { toExternalApplication, type ApplicationExternal, type ApplicationRecord, type RetentionSetting } from '../model/application.js';
import type { ApplicationStore } from '../store/application.js';
import type { WriteFence } from '../store/message.js';
import { newImageName, type Issued, type TokenFormat } from './token.js';
import { OwnedRecordService } from './owned.js';
import { withFreshToken } from './retry.js';
import { isImage, validImageExtension } from './image.js';
import type { RetentionService } from './retention.js';

export interface ApplicationServiceDeps {
  applications: ApplicationStore;
  /** Where uploaded images are stored (<datadir>/images). */
  imagesDir: string;
  /** Form of new tokens (config `tokenformat`); default classic. */
  tokenFormat?: TokenFormat;
  /** Enforces retention; told when an application's limits change. */
  retention: RetentionService;
}

export interface ApplicationInput {
  name: string;
  description?: string;
  defaultPriority?: number;
  /** Empty or absent: placed after the user's last application. */
  sortKey?: string;
  /** Flow's retention (PUT only; parsed by `parseRetention`): given fields replace the stored ones. */
  retention?: RetentionSetting;
}

/**
 * Applications (A… tokens), including the internal ones that plugins own. Another user's
 * application is reported as missing (404).
 */
export class ApplicationService extends OwnedRecordService<ApplicationRecord> {
  constructor(private readonly deps: ApplicationServiceDeps) {
    super(deps.applications, (id) => `app with id ${id} doesn't exists`);
  }

  /** The Gotify wire shape plus Flow's `retention` (the limits in force). */
  external(a: ApplicationRecord): ApplicationExternal {
    return toExternalApplication(a, this.deps.retention.effective(a));
  }

  /** POST /application. 400 "sort key is not unique" for a taken sortKey. */
  create(userId: number, input: ApplicationInput): Promise<Issued<ApplicationRecord>> {
    return this.insert(userId, input, false);
  }

  /**
   * Creates an application owned by a plugin instance (as Gotify makes them: default
   * priority 0, default image, placed last). It cannot be deleted through the API while internal.
   */
  createInternal(userId: number, input: { name: string; description: string }, fence?: WriteFence): Promise<ApplicationRecord> {
    // With enhanced tokens only the public form is kept: nobody can post as the plugin (as Gotify 3).
    // `fence`: the plugin instance's lease with replicas (created only while it holds).
    return this.insert(userId, { name: input.name, description: input.description }, true, fence).then((i) => i.record);
  }

  private insert(userId: number, input: ApplicationInput, internal: boolean, fence?: WriteFence): Promise<Issued<ApplicationRecord>> {
    return withFreshToken('application', this.deps.tokenFormat ?? 'classic', (token) =>
      this.deps.applications.create({
        userId,
        token,
        name: input.name,
        description: input.description ?? '',
        internal,
        image: '',
        defaultPriority: input.defaultPriority ?? 0,
        lastUsed: null,
        sortKey: input.sortKey ?? '',
      }, fence),
    );
  }

  /** PUT /application/:id/security with regenerateToken: a new token; the old one stops working at once. */
  async regenerateToken(userId: number, id: number): Promise<Issued<ApplicationRecord>> {
    this.requireOwned(userId, id);
    return withFreshToken('application', this.deps.tokenFormat ?? 'classic', (token) => this.deps.applications.setToken(id, token));
  }

  /** Sets or clears the internal flag (the plugin host reconciles it at start). 404 if missing. */
  setInternal(id: number, internal: boolean): Promise<ApplicationRecord> {
    return this.deps.applications.update(id, { internal });
  }

  /**
   * PUT /application/:id: name, description and defaultPriority are replaced; sortKey only when
   * given; retention per given field (a changed limit is applied at once, in the background).
   */
  async update(userId: number, id: number, input: ApplicationInput): Promise<ApplicationRecord> {
    const cur = this.requireOwned(userId, id);
    const patch: Parameters<ApplicationStore['update']>[1] = {
      name: input.name,
      description: input.description ?? '',
      defaultPriority: input.defaultPriority ?? 0,
    };
    if (input.sortKey) patch.sortKey = input.sortKey;
    if (input.retention && Object.keys(input.retention).length > 0) patch.retention = { ...cur.retention, ...input.retention };
    const updated = await this.deps.applications.update(id, patch);
    if (patch.retention) void this.deps.retention.checkApplication(id);
    return updated;
  }

  /** Deletes the application and its messages. 400 "cannot delete internal application". */
  async delete(userId: number, id: number): Promise<ApplicationRecord> {
    this.requireOwned(userId, id);
    const removed = await this.deps.applications.delete(id, (cur) => {
      if (cur.internal) throw badRequest('cannot delete internal application');
    });
    if (removed.image) await this.removeFile(removed.image);
    return removed;
  }

  /**
   * POST /application/:id/image: checks the content is an image and the extension is
   * .gif/.png/.jpg/.jpeg (Gotify's rules and texts), stores it under a random name and
   * replaces (deletes) the previous one.
   */
  async setImage(userId: number, id: number, file: { filename: string; data: Buffer }): Promise<ApplicationRecord> {
    this.requireOwned(userId, id);
    if (!isImage(file.data)) throw badRequest('file must be an image');
    const ext = path.extname(file.filename);
    if (!validImageExtension(ext)) throw badRequest('invalid file extension');
    await mkdir(this.deps.imagesDir, { recursive: true });
    const name = newImageName() + ext;
    await this.writeImage(name, file.data);
    let updated: ApplicationRecord;
    try {
      const before = this.requireOwned(userId, id);
      updated = await this.deps.applications.update(id, { image: name });
      if (before.image) await this.removeFile(before.image);
    } catch (err) {
      await this.removeFile(name);
      throw err; // a FlowError keeps its kind: the HTTP edge maps it
    }
    return updated;
  }

  /** DELETE /application/:id/image. 400 when the app has the default image. */
  async removeImage(userId: number, id: number): Promise<ApplicationRecord> {
    const app = this.requireOwned(userId, id);
    if (!app.image) throw badRequest(`app with id ${id} does not have a customized image`);
    const updated = await this.deps.applications.update(id, { image: '' });
    await this.removeFile(app.image);
    return updated;
  }

  /**
   * Writes to a temporary name, then renames: a failed write (a full disk) leaves no partial
   * image under a name GET /image serves. The temporary name starts with a dot, which
   * GET /image never serves and removeStaleUploads() cleans after a crash.
   */
  private async writeImage(name: string, data: Buffer): Promise<void> {
    const tmp = path.join(this.deps.imagesDir, `${UPLOAD_PREFIX}${name}`);
    try {
      await writeFile(tmp, data, { flag: 'wx' });
      await rename(tmp, path.join(this.deps.imagesDir, name));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new HttpError(503, 'not enough disk space to store the image; nothing was stored', { expose: true, cause: err });
      }
      throw err;
    }
  }

  private async removeFile(name: string): Promise<void> {
    await unlink(path.join(this.deps.imagesDir, name)).catch(() => undefined);
  }
}

const UPLOAD_PREFIX = '.upload-';

/** Removes temporary uploads a crash left in the images folder (call at start, before serving). */
export async function removeStaleUploads(imagesDir: string): Promise<void> {
  const names = await readdir(imagesDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(UPLOAD_PREFIX)).map((n) => unlink(path.join(imagesDir, n)).catch(() => undefined)));
}
