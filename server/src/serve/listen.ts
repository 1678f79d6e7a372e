import type { Server } from 'node:net';
import { FlowError } from '../errors.js';

/**
 * Listens, turning the errors a user can fix into one line naming the port and the config key
 * that sets it ("port 8080 is already in use (server.port, FLOW_SERVER_PORT or --server-port)").
 */
export function listen(server: Server, port: number, host: string, portKey: string): Promise<void> {
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
