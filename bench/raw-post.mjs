// The raw limit of POST /message (issue 15): what any server storing a message must do, with
// nothing else, written the plain way. The same work per message as Flow's LevelDB store and
// POST /message: a token looked up in memory; the JSON body parsed and its fields checked as Flow
// checks them (message a non-empty string, title a string, priority an integer, extras an
// object); the record and its two index keys in one batch, with the id sequence persisted in
// blocks of 100 by a synced batch (Flow's durability: store/level/db.ts); the message as JSON back.
// Not done here, and done by Flow: Gotify's case-insensitive field names, the nesting bound on
// the JSON text, writes of concurrent requests grouped into one batch, everything of Koa.
// Served over HTTP by bench/http.mjs (--serve-raw) and called in-process by bench/middleware.mjs.

const ID_BLOCK = 100;
const SYNCED = { sync: true };

/** A `node:http` request handler on its own classic-level database in `dir`. */
export async function rawPost(dir) {
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel(dir, { valueEncoding: 'utf8' });
  await db.open();
  const apps = new Map([['Araw', { id: 1, userId: 1, name: 'raw', defaultPriority: 0 }]]);
  let seq = 0;
  let reserved = 0;
  const pad = (n) => String(n).padStart(16, '0');
  /** One batch per message, the plain way. */
  const writeOne = (ops, id) => {
    if (id <= reserved) return db.batch(ops);
    reserved = id + ID_BLOCK;
    ops.push({ type: 'put', key: 'meta!seq!message', value: String(reserved) });
    return db.batch(ops, SYNCED);
  };
  // BENCH_RAW_GROUPED=1: messages that arrive while a batch is being written go into the next
  // one, as Flow's write queue does (store/level/db.ts), for a raw limit with that trick too.
  let queue = [];
  let writing = false;
  const flush = () => {
    if (writing || queue.length === 0) return;
    const group = queue;
    queue = [];
    writing = true;
    const ops = group.flatMap((g) => g.ops);
    writeOne(ops, group[group.length - 1].id).then(
      () => {
        writing = false;
        for (const g of group) g.resolve();
        flush();
      },
      (err) => {
        writing = false;
        for (const g of group) g.reject(err);
        flush();
      },
    );
  };
  const writeGrouped = (ops, id) =>
    new Promise((resolve, reject) => {
      queue.push({ ops, id, resolve, reject });
      flush();
    });
  const write = process.env.BENCH_RAW_GROUPED === '1' ? writeGrouped : writeOne;

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
      if (input === null || typeof input !== 'object' || Array.isArray(input)) return fail(400, 'Bad Request');
      const { message, title, priority, extras } = input;
      if (typeof message !== 'string' || message === '') return fail(400, 'Bad Request');
      if (title != null && typeof title !== 'string') return fail(400, 'Bad Request');
      if (priority != null && !Number.isSafeInteger(priority)) return fail(400, 'Bad Request');
      if (extras != null && (typeof extras !== 'object' || Array.isArray(extras))) return fail(400, 'Bad Request');
      const id = ++seq;
      const msg = { id, appid: app.id, message, title: (title ?? '').trim() === '' ? app.name : title, priority: priority ?? app.defaultPriority, date: new Date().toISOString() };
      if (extras && Object.keys(extras).length > 0) msg.extras = extras;
      const rec = { id, appId: app.id, userId: app.userId, message: msg.message, title: msg.title, priority: msg.priority, date: msg.date, ...(msg.extras ? { extras: msg.extras } : {}) };
      const ops = [
        { type: 'put', key: 'm!' + pad(id), value: JSON.stringify(rec) },
        { type: 'put', key: `a-m!${pad(app.id)}!${pad(id)}`, value: '' },
        { type: 'put', key: `u-m!${pad(app.userId)}!${pad(id)}`, value: String(app.id) },
      ];
      write(ops, id).then(() => {
        const out = JSON.stringify(msg);
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(out) });
        res.end(out);
      }, () => fail(500, 'Internal Server Error'));
    });
  };
  return { handler, close: () => db.close() };
}
