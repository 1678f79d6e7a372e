// The raw limit of POST /message (issue 15): what any server storing a message must do, with
// nothing else. The same keys as Flow's store (record, two indexes, the id sequence) in one batch,
// a token looked up in memory, the JSON body parsed and checked, the message serialised back.
// Served over HTTP by bench/http.mjs (--serve-raw) and called in-process by bench/middleware.mjs.

/** A `node:http` request handler on its own classic-level database in `dir`. */
export async function rawPost(dir) {
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel(dir, { valueEncoding: 'utf8' });
  await db.open();
  const apps = new Map([['Araw', { id: 1, userId: 1, name: 'raw', defaultPriority: 0 }]]);
  let seq = 0;
  const pad = (n) => String(n).padStart(16, '0');
  const handler = (req, res) => {
    const fail = (status, error) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error, errorCode: status, errorDescription: error }));
    };
    const app = apps.get(req.headers['x-gotify-key']);
    if (!app) return fail(401, 'Unauthorized');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let input;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return fail(400, 'Bad Request');
      }
      if (typeof input.message !== 'string' || input.message === '') return fail(400, 'Bad Request');
      const id = ++seq;
      const msg = { id, appid: app.id, message: input.message, title: input.title || app.name, priority: input.priority ?? app.defaultPriority, date: new Date().toISOString() };
      const rec = { id, appId: app.id, userId: app.userId, message: msg.message, title: msg.title, priority: msg.priority, date: msg.date };
      db.batch([
        { type: 'put', key: 'meta!seq!message', value: String(id) },
        { type: 'put', key: 'm!' + pad(id), value: JSON.stringify(rec) },
        { type: 'put', key: `a-m!${pad(app.id)}!${pad(id)}`, value: '' },
        { type: 'put', key: `u-m!${pad(app.userId)}!${pad(id)}`, value: String(app.id) },
      ]).then(() => {
        const out = JSON.stringify(msg);
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(out) });
        res.end(out);
      }, () => fail(500, 'Internal Server Error'));
    });
  };
  return { handler, close: () => db.close() };
}
