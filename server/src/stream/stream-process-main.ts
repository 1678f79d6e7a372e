/**
 * Entry of the stream process (see stream-process.ts): a LocalStreams driven by the server over
 * Node's IPC channel. It exits when the server says so or when the channel closes, so a server
 * killed with SIGKILL never leaves it behind; signals meant for the server do not end it.
 */
import type { Socket } from 'node:net';
import { LocalStreams } from './local-streams.js';
import type { FromStreamProcess, ToStreamProcess } from './process-messages.js';

process.title = 'flow-streams';
const tell = (m: FromStreamProcess) => process.send?.(m);
const streams = new LocalStreams({ pingPeriodMs: Number(process.argv[2]), onClosed: (id) => tell({ t: 'closed', id }) });

let processed = 0;
let ackScheduled = false;
/** One ack per turn of the event loop, however many messages the turn processed. */
function ack(): void {
  if (ackScheduled) return;
  ackScheduled = true;
  setImmediate(() => {
    ackScheduled = false;
    tell({ t: 'ack', chars: processed });
  });
}

process.on('message', (m: ToStreamProcess, handle?: Socket) => {
  switch (m.t) {
    case 'adopt':
      if (handle) streams.adopt(m.id, m.userId, m.req, handle, Buffer.from(m.head, 'base64'));
      else tell({ t: 'closed', id: m.id });
      break;
    case 'send':
      streams.send(m.userId, m.json);
      processed += m.json.length;
      ack();
      break;
    case 'close':
      streams.close(m.ids, m.code, m.reason);
      break;
    case 'shutdown':
      void streams.shutdown().then(() => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal, and service managers that signal the server's whole group or cgroup,
// reach this process too: the server decides when it ends (its shutdown message, or its end).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
tell({ t: 'ready' });
