import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultAppImage } from '../services/image.js';
import { createRouter, type FlowRouter } from './deps.js';

const TYPES: Record<string, string> = { '.png': 'image/png', '.gif': 'image/gif', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };
// Only names Flow generates: no separators, so no path traversal.
const NAME = /^[A-Za-z0-9_-]+\.(png|gif|jpe?g)$/i;

/** GET /image/<file> (uploaded application images) and GET /static/defaultapp.png. No auth, as Gotify. */
export function imageRoutes(deps: { imagesDir: string }): FlowRouter {
  const router = createRouter();
  const fallback = defaultAppImage();

  router.get('/image/:file', async (ctx, next) => {
    const file = ctx.params.file ?? '';
    if (!NAME.test(file)) return next();
    let data: Buffer;
    try {
      data = await readFile(path.join(deps.imagesDir, file));
    } catch {
      return next();
    }
    ctx.type = TYPES[path.extname(file).toLowerCase()]!;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = data;
  });

  router.get('/static/defaultapp.png', (ctx) => {
    ctx.type = 'image/png';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = fallback;
  });

  return router;
}
