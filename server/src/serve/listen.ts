import { lstat, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { FlowError } from '../errors.js';

/** Gotify's form of a listen address that is a unix domain socket: `unix:/run/flow.sock`. */
export const UNIX_PREFIX = 'unix:';

/**
 * Listens, turning the errors a user can fix into one line naming the port and the config key
 * that sets it ("port 8080 is already in use (server.port, FLOW_SERVER_PORT or --server-port)").
 */
export function listen(server: Server, port: number, host: string, portKey: string): Promise<void> {
  if (host.startsWith(UNIX_PREFIX)) return listenUnix(server, host.slice(UNIX_PREFIX.length), portKey.replace(/port$/, 'listenaddr'));
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${host === '' ? '' : host + ':'}${port}`;
      const key = `${portKey}, ${'FLOW_' + portKey.toUpperCase().replace(/\./g, '_')} or --${portKey.replace(/\./g, '-')}`;
      if (err.code === 'EADDRINUSE') reject(new FlowError('FLOW_ERR_CONFIG_INVALID', `port ${where} is already in use: stop the other server or choose another port (${key})`));
      else if (err.code === 'EACCES') reject(new FlowError('FLOW_ERR_CONFIG_INVALID', `no permission to listen on port ${where}: ports below 1024 need privileges; choose another port (${key})`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new FlowError('FLOW_ERR_CONFIG_INVALID', `cannot listen on ${where}: the address is not on this machine (${portKey.replace(/port$/, 'listenaddr')})`));
      else reject(err);
    };
    server.once('error', onError);
    server.listen({ port, host: host === '' ? undefined : host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Listens on a unix domain socket (`server.listenaddr: unix:/run/flow.sock`, as Gotify). A socket
 * file left by a server that crashed (nobody accepts on it) is replaced; one a live server
 * listens on, or a file that is not a socket, is refused naming the path and the key.
 */
async function listenUnix(server: Server, file: string, key: string): Promise<void> {
  const st = await lstat(file).catch(() => undefined);
  if (st) {
    if (!st.isSocket()) throw new FlowError('FLOW_ERR_CONFIG_INVALID', `cannot listen on ${file}: it exists and is not a socket (${key})`);
    const live = await new Promise<boolean>((resolve) => {
      const probe = connect(file);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (live) throw new FlowError('FLOW_ERR_CONFIG_INVALID', `socket ${file} is already in use: stop the other server or choose another path (${key})`);
    await unlink(file);
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EACCES' || err.code === 'ENOENT' ? new FlowError('FLOW_ERR_CONFIG_INVALID', `cannot listen on ${file}: ${err.code === 'EACCES' ? 'no permission' : 'its folder does not exist'} (${key})`) : err);
    server.once('error', onError);
    server.listen({ path: file }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
