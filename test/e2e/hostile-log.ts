/**
 * A real server on a plugins folder with its log captured (every line, at trace level), for
 * the hostile-plugin tests that assert on what the server logs. startPluginServer runs quiet.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, startFlow, type FlowConfig, type FlowHandle } from '@flow/server';
import { FAST } from '../helpers/plugins.js';
import { basic } from '../helpers/server.js';

export interface LoggedServer {
  flow: FlowHandle;
  /** Raw pino lines, oldest first; clear with `lines.length = 0`. */
  lines: string[];
  api(method: string, p: string, body?: string): Promise<Response>;
  /** Stops and starts the server on the same data dir and plugins folder, same log. */
  restart(): Promise<void>;
  /** Stops the server and removes the data dir and the plugins folder. */
  close(): Promise<void>;
}

export async function startLoggedServer(pluginsDir: string, config: Partial<FlowConfig> = {}): Promise<LoggedServer> {
  const data = await mkdtemp(path.join(tmpdir(), 'flow-test-'));
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => void lines.push(line) } as never });
  const start = () => startFlow({ logger, config: { ...FAST, 'server.listenaddr': '127.0.0.1', 'server.port': 0, datadir: data, passstrength: 4, pluginsdir: pluginsDir, ...config } });
  const admin = basic('admin', 'admin');
  const s: LoggedServer = {
    flow: await start(),
    lines,
    api: (method, p, body) => fetch(s.flow.url + p, { method, headers: { authorization: admin }, body }),
    async restart() {
      await s.flow.close();
      s.flow = await start();
    },
    async close() {
      await s.flow.close();
      await rm(pluginsDir, { recursive: true, force: true });
      await rm(data, { recursive: true, force: true });
    },
  };
  return s;
}
