// The reference: a plugin on vscode-jsonrpc's stock StreamMessageReader/Writer and connection,
// answering ping, and webhook/request with one kv/get call back to the host (the nested case).
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
connection.onRequest('ping', () => ({}));
connection.onRequest('webhook/request', async (params) => {
  const { value } = await connection.sendRequest('kv/get', { instanceId: params.instanceId, key: 'count' });
  return { status: 200, body: Buffer.from(String(value)).toString('base64') };
});
connection.onClose(() => process.exit(0));
connection.listen();
