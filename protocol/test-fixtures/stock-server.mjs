// A peer built only on vscode-jsonrpc's stock StreamMessageReader/Writer, to prove the
// framed transport interoperates with the implementation LSP tools use.
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
connection.onRequest('echo', (params) => params);
connection.onRequest('callBack', async (params) => ({ fromHost: await connection.sendRequest('host/answer', params) }));
connection.onNotification('exit', () => process.exit(0));
connection.onClose(() => process.exit(0));
connection.listen();
