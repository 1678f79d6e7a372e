import { it } from 'vitest';
import { hookUrl, pluginsDir, startPluginServer } from '../helpers/plugins.js';
it('probe', async () => {
  const s = await startPluginServer(await pluginsDir(['hostile-caller']), { 'plugins.webhooktimeoutms': 60000 });
  const c = (await s.plugins())[0];
  await s.api('POST', `/plugin/${c.id}/enable`, { auth: s.adminAuth });
  const rss0 = process.memoryUsage().rss;
  let max = 0;
  const t = setInterval(() => (max = Math.max(max, process.memoryUsage().rss)), 20);
  const t0 = Date.now();
  const r = await fetch(hookUrl(s, c, 'save-flood?n=150&mb=3'));
  clearInterval(t);
  console.log('status', r.status, await r.text(), 'ms', Date.now() - t0, 'max rss growth MB', Math.round((max - rss0) / 1e6));
  await s.close();
}, 120000);
