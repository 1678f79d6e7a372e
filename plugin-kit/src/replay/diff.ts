import type { Difference, MessageEntry } from '@flow/protocol';

/** "line 14 (plugin → host, message/send, instance "1")": where a transcript entry sits. */
export function describeEntry(entry: MessageEntry, key: string, method?: string): string {
  const m = entry.msg;
  const name = typeof m.method === 'string' ? m.method : `response to ${method ?? `id ${JSON.stringify(m.id)}`}`;
  const direction = entry.dir === 'send' ? 'host → plugin' : 'plugin → host';
  return `line ${entry.line} (${direction}, ${name}${key === '' ? '' : `, instance ${JSON.stringify(key)}`})`;
}

/** One line per difference: the JSON pointer, then what the transcript has and what came. */
export function describeDifferences(differences: Difference[]): string {
  return differences
    .map((d) => {
      const at = d.path === '' ? '(whole message)' : d.path;
      if (d.reason && d.reason !== 'missing') {
        const detail = typeof d.expected === 'string' && typeof d.actual === 'string' ? stringDifference(d.expected, d.actual) : `expected ${show(d.expected)}, got ${show(d.actual)}`;
        return `  ${at}: ${d.reason}: ${detail}`;
      }
      if (d.expected === undefined) return `  ${at}: not in the transcript, got ${show(d.actual)}`;
      if (d.actual === undefined) return `  ${at}: missing, expected ${show(d.expected)}`;
      if (typeof d.expected === 'string' && typeof d.actual === 'string') return `  ${at}: ${stringDifference(d.expected, d.actual)}`;
      return `  ${at}: expected ${show(d.expected)}, got ${show(d.actual)}`;
    })
    .join('\n');
}

/** Indented JSON for a diff block. */
export function pretty(value: unknown): string {
  return (JSON.stringify(value, null, 2) ?? String(value))
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

/** Where two long strings part: the first differing character, with some context on each side. */
function stringDifference(expected: string, actual: string): string {
  if (expected.length + actual.length < 160) return `expected ${show(expected)}, got ${show(actual)}`;
  let at = 0;
  while (at < expected.length && expected[at] === actual[at]) at++;
  const from = Math.max(0, at - 30);
  const cut = (text: string) => `${from > 0 ? '…' : ''}${JSON.stringify(text.slice(from, at + 40)).slice(1, -1)}${at + 40 < text.length ? '…' : ''}`;
  return `strings differ from character ${at}: expected "${cut(expected)}", got "${cut(actual)}"`;
}
