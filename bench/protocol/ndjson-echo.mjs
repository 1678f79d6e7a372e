// The ceiling: newline-delimited JSON over the same pipes, no framing library, one
// JSON.parse and one JSON.stringify + write per message. Answers every request with {}.
let rest = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\n');
  rest = lines.pop();
  for (const line of lines) {
    const request = JSON.parse(line);
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, result: {} })}\n`);
  }
});
process.stdin.on('end', () => process.exit(0));
