import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from './errors.js';
import { generateSchemaFiles } from './json-schemas.js';
import { CANCEL_REQUEST_METHOD } from './lifecycle.js';
import { METHODS, methodByName } from './methods.js';
import { checkError, createSchemaValidator as createValidator, errorDataIndex, methodIndex, schemaDir } from '../test-support/schemas.js';

/**
 * Keeps spec/ and protocol/src from drifting: the committed schemas are the generated
 * ones, every JSON example in the spec is a valid message of the method it shows, and the
 * spec's tables list exactly the codes and methods the code defines.
 */

const specDir = fileURLToPath(new URL('../../spec/', import.meta.url));
const read = (path: string) => readFileSync(path, 'utf8');
const index = { methods: methodIndex };

/** Every ```json block of a Markdown file: each is one JSON-RPC message, in document order. */
function jsonBlocks(markdown: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const pattern = /^```json\n([\s\S]*?)^```$/gm;
  for (let match = pattern.exec(markdown); match; match = pattern.exec(markdown)) {
    blocks.push({ line: markdown.slice(0, match.index).split('\n').length, text: match[1]! });
  }
  return blocks;
}

/**
 * Validates the messages of a document as one conversation: a response is checked
 * against the result schema of the latest request with its id.
 */
function checkExamples(markdown: string): { checked: number; problems: string[] } {
  const validate = createValidator();
  const pending = new Map<string | number, string>();
  const problems: string[] = [];
  let checked = 0;
  for (const { line, text } of jsonBlocks(markdown)) {
    const where = `line ${line}`;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      problems.push(`${where}: not JSON: ${(error as Error).message}`);
      continue;
    }
    checked++;
    if (message.jsonrpc !== '2.0') problems.push(`${where}: jsonrpc is not "2.0"`);
    if (typeof message.method === 'string') {
      const entry = index.methods[message.method];
      if (!entry) {
        problems.push(`${where}: unknown method ${message.method}`);
        continue;
      }
      const isRequest = 'id' in message;
      if (isRequest !== (entry.kind === 'request')) problems.push(`${where}: ${message.method} is a ${entry.kind}`);
      problems.push(...validate(entry.params, message.params).map((p) => `${where}: ${p}`));
      const definition = methodByName(message.method);
      if (definition && !definition.params.safeParse(message.params).success) problems.push(`${where}: zod rejects the params of ${message.method}`);
      if (isRequest) pending.set(message.id as string | number, message.method);
      continue;
    }
    const method = message.id === null ? undefined : pending.get(message.id as string | number);
    if ('result' in message) {
      if (!method) {
        problems.push(`${where}: response to an id no example request used`);
        continue;
      }
      const resultFile = index.methods[method]!.result!;
      problems.push(...validate(resultFile, message.result).map((p) => `${where}: ${p}`));
      const definition = methodByName(method);
      if (definition?.kind === 'request' && !definition.result.safeParse(message.result).success) problems.push(`${where}: zod rejects the result of ${method}`);
    } else if ('error' in message) {
      const error = message.error as { code?: unknown; message?: unknown; data?: unknown };
      problems.push(...checkError(validate, error).map((p) => `${where}: ${p}`));
      // FrameTooLarge answers a request the receiver never read, so no example shows that request.
      if (message.id !== null && !method && error.code !== ErrorCodes.FrameTooLarge) problems.push(`${where}: error response to an id no example request used`);
    } else {
      problems.push(`${where}: neither a request, a notification nor a response`);
    }
  }
  return { checked, problems };
}

describe('spec/schemas', () => {
  it('are exactly what `npm run schemas -w @flow/protocol` generates', () => {
    const generated = generateSchemaFiles();
    const committed = readdirSync(schemaDir).filter((f) => f.endsWith('.json')).sort();
    expect(committed).toEqual([...generated.keys()].sort());
    for (const [file, text] of generated) expect(read(`${schemaDir}${file}`), `${file} is stale: run npm run schemas -w @flow/protocol`).toBe(text);
  });

  it('index every method of METHODS, plus $/cancelRequest', () => {
    expect(Object.keys(index.methods)).toEqual([...METHODS.map((m) => m.method), CANCEL_REQUEST_METHOD]);
  });
});

describe('spec/protocol.md', () => {
  const spec = read(`${specDir}protocol.md`);

  it('has only examples that validate against the schemas and the zod definitions', () => {
    const { checked, problems } = checkExamples(spec);
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });

  it('shows an example of every method', () => {
    const shown = new Set(jsonBlocks(spec).map(({ text }) => (JSON.parse(text) as { method?: string }).method));
    expect(Object.keys(index.methods).filter((m) => !shown.has(m))).toEqual([]);
  });

  it('lists exactly the codes of ErrorCodes in its error table', () => {
    const rows = [...spec.matchAll(/^\| (-?\d+) \| (\w+) \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual(ErrorCodes);
    expect(rows).toHaveLength(Object.keys(ErrorCodes).length);
  });

  it('shows valid example data in its error table for every code that has a data schema', () => {
    const validate = createValidator();
    const rows = [...spec.matchAll(/^\| (-?\d+) \| \w+ \|.*\| `(\{.*\})`[^|]*\|$/gm)].map((m) => ({ code: Number(m[1]), data: JSON.parse(m[2]!) as unknown }));
    expect(rows.map((r) => r.code).sort()).toEqual([...errorDataIndex.keys()].sort());
    for (const { code, data } of rows) expect(validate(errorDataIndex.get(code)!.data, data), `data of ${code}`).toEqual([]);
  });

  it('summarises every method with its kind, direction, capability and default timeout', () => {
    const rows = [...spec.matchAll(/^\| `([^`]+)` \| (request|notification) \| ([^|]+) \|\s*([a-z]*)\s*\|\s*(\d*)\s*\|$/gm)].map((m) => ({
      method: m[1],
      kind: m[2],
      direction: m[3]!.trim(),
      capability: m[4] || null,
      timeout: m[5] ? Number(m[5]) : undefined,
    }));
    const arrow = { hostToPlugin: 'host → plugin', pluginToHost: 'plugin → host', both: 'both' } as Record<string, string>;
    expect(rows).toEqual(
      Object.entries(index.methods).map(([method, e]) => ({
        method,
        kind: e.kind,
        direction: arrow[e.direction],
        capability: e.capability,
        timeout: e.defaultTimeoutMs,
      })),
    );
  });
});

describe('spec/ links', () => {
  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
  const anchors = (markdown: string) =>
    new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-')));

  it('point at headings and files that exist', () => {
    const docs = ['README.md', 'protocol.md', 'lifecycle.md', 'writing-a-plugin.md', '../protocol/README.md'];
    const broken: string[] = [];
    for (const doc of docs) {
      for (const [, target] of read(`${specDir}${doc}`).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^https?:/.test(target!)) continue;
        const [file, anchor] = target!.split('#');
        const path = `${specDir}${file || doc}`;
        let text: string;
        try {
          text = read(path.endsWith('/') ? `${path}methods.json` : path);
        } catch {
          broken.push(`${doc}: ${target} (no such file)`);
          continue;
        }
        if (anchor && !anchors(text).has(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the example checker', () => {
  it('catches a wrong params type, a wrong result and an unknown error code', () => {
    const doc = [
      '```json\n{"jsonrpc": "2.0", "id": 1, "method": "kv/get", "params": {"instanceId": "1", "key": 5}}\n```',
      '```json\n{"jsonrpc": "2.0", "id": 2, "method": "display/get", "params": {"instanceId": "1", "location": {"scheme": "https", "host": "h", "webhookBasePath": "/"}}}\n```',
      '```json\n{"jsonrpc": "2.0", "id": 2, "result": {"text": "not markdown"}}\n```',
      '```json\n{"jsonrpc": "2.0", "id": 1, "error": {"code": 4242, "message": "x"}}\n```',
    ].join('\n\n');
    const { problems } = checkExamples(doc);
    expect(problems.some((p) => p.includes('KvKeyParams.json/key'))).toBe(true);
    expect(problems.some((p) => p.includes('DisplayResult.json'))).toBe(true);
    expect(problems.some((p) => p.includes('4242'))).toBe(true);
  });
});

describe('spec/writing-a-plugin.md', () => {
  it('has only examples that validate against the schemas', () => {
    const { checked, problems } = checkExamples(read(`${specDir}writing-a-plugin.md`));
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(3);
  });
});
