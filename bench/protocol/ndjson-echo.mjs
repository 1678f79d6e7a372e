// The ceiling: newline-delimited JSON over the same pipes, no framing library, one
// JSON.parse and one JSON.stringify + write per message. Answers ping with {}; for
// webhook/request it first asks the host for kv/get (the nested case), then answers.
const waiting = new Map(); // our kv/get id -> the webhook request id
let nextId = 1;
let rest = '';
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\n');
  rest = lines.pop();
  for (const line of lines) {
    const message = JSON.parse(line);
    if (message.method === 'webhook/request') {
      const id = nextId++;
      waiting.set(id, message.id);
      send({ jsonrpc: '2.0', id, method: 'kv/get', params: { instanceId: message.params.instanceId, key: 'count' } });
    } else if (message.method === undefined) {
      const requestId = waiting.get(message.id);
      waiting.delete(message.id);
      send({ jsonrpc: '2.0', id: requestId, result: { status: 200, body: Buffer.from(String(message.result.value)).toString('base64') } });
    } else {
      send({ jsonrpc: '2.0', id: message.id, result: {} });
    }
  }
});
process.stdin.on('end', () => process.exit(0));
