import { readdir, readFile } from 'node:fs/promises';
import { WebSocket } from 'ws';

/** The stream processes ("flow-streams", server/src/stream/stream-process.ts) whose parent is `ppid`, with their nice value. */
export async function streamProcesses(ppid: number): Promise<{ pid: number; nice: number }[]> {
  const found = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name: state, ppid, … nice is the 17th.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) !== ppid) continue;
      if ((await readFile(`/proc/${entry}/cmdline`, 'utf8')).startsWith('flow-streams')) found.push({ pid: Number(entry), nice: Number(f[16]) });
    } catch {
      // Gone while listing.
    }
  }
  return found;
}

/**
 * Against a running server at `url`: creates a client and an application with the `admin`
 * headers, opens /stream with the client's token and posts one message. Resolves with what POST
 * /message answered, what the stream received, and the open socket.
 */
export async function streamRoundTrip(url: string, admin: Record<string, string>, message: string): Promise<{ posted: unknown; received: unknown; ws: WebSocket }> {
  const post = async (p: string, headers: Record<string, string>, body: unknown) =>
    (await fetch(url + p, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>;
  const client = await post('/client', admin, { name: 'phone' });
  const app = await post('/application', admin, { name: 'streamed' });
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/stream?token=' + client.token);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const received = new Promise<unknown>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
  const posted = await post('/message', { 'X-Gotify-Key': app.token }, { message });
  return { posted, received: await received, ws };
}
