import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ErrorCodes } from '../src/errors.js';
import { SCHEMA_ID_BASE } from '../src/json-schemas.js';

/** Test support: validates messages against the committed spec/schemas/ files with ajv (draft 2020-12). */

export const schemaDir = fileURLToPath(new URL('../../spec/schemas/', import.meta.url));

export interface MethodIndexEntry {
  kind: 'request' | 'notification';
  direction: string;
  capability: string | null;
  params: string;
  result?: string;
  defaultTimeoutMs?: number;
}

const index = JSON.parse(readFileSync(`${schemaDir}methods.json`, 'utf8')) as {
  methods: Record<string, MethodIndexEntry>;
  errorData: Record<string, { code: number; data: string; required: boolean }>;
};
export const methodIndex = index.methods;
/** Error code → its data schema file and whether data is required. */
export const errorDataIndex = new Map(Object.values(index.errorData).map((entry) => [entry.code, entry]));

/** Problems with an error object: a known code, a message, and data matching the code's schema. */
export function checkError(validate: (file: string, value: unknown) => string[], error: { code?: unknown; message?: unknown; data?: unknown }): string[] {
  const problems: string[] = [];
  if (!Object.values(ErrorCodes).includes(error.code as never)) problems.push(`error code ${String(error.code)} is not in ErrorCodes`);
  if (typeof error.message !== 'string') problems.push('error without a message');
  const data = errorDataIndex.get(error.code as number);
  if (data && error.data === undefined && data.required) problems.push(`error ${String(error.code)} without its data`);
  if (data && error.data !== undefined) problems.push(...validate(data.data, error.data));
  return problems;
}

/** Returns problems (empty when valid) for `value` against the schema file `file` ("KvGetResult.json"). */
export function createSchemaValidator(): (file: string, value: unknown) => string[] {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  ajv.addFormat('base64', /^(?:[0-9a-zA-Z+/]{4})*(?:[0-9a-zA-Z+/]{2}==|[0-9a-zA-Z+/]{3}=)?$/);
  for (const file of readdirSync(schemaDir)) {
    if (file !== 'methods.json') ajv.addSchema(JSON.parse(readFileSync(`${schemaDir}${file}`, 'utf8')) as object);
  }
  return (file, value) => {
    const validate = ajv.getSchema(`${SCHEMA_ID_BASE}${file}`);
    if (!validate) return [`no schema ${file}`];
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${file}${e.instancePath} ${e.message ?? ''}`);
  };
}

/**
 * Checks a stream of messages as one conversation: requests and notifications against
 * their params schema, responses against the result schema of the request with their id
 * (per direction, since each side numbers its own requests).
 */
export class ConversationChecker {
  readonly problems: string[] = [];
  private readonly validate = createSchemaValidator();
  private readonly pending = { sent: new Map<unknown, string>(), received: new Map<unknown, string>() };

  /** `from`: who sent it. A response is matched against the other side's requests. */
  check(message: Record<string, unknown>, from: 'host' | 'plugin', where = ''): void {
    const tag = `${where}${from}: ${JSON.stringify(message).slice(0, 120)}`;
    if (message.jsonrpc !== '2.0') this.problems.push(`${tag}: jsonrpc is not "2.0"`);
    const own = from === 'host' ? this.pending.sent : this.pending.received;
    const theirs = from === 'host' ? this.pending.received : this.pending.sent;
    if (typeof message.method === 'string') {
      const entry = methodIndex[message.method];
      if (!entry) return void this.problems.push(`${tag}: unknown method`);
      const expected = entry.direction === 'both' ? from : entry.direction === 'hostToPlugin' ? 'host' : 'plugin';
      if (expected !== from) this.problems.push(`${tag}: ${message.method} goes ${entry.direction}`);
      if (('id' in message) !== (entry.kind === 'request')) this.problems.push(`${tag}: ${message.method} is a ${entry.kind}`);
      this.problems.push(...this.validate(entry.params, message.params).map((p) => `${tag}: ${p}`));
      if ('id' in message) own.set(message.id, message.method);
      return;
    }
    const method = theirs.get(message.id);
    if ('result' in message) {
      if (!method) return void this.problems.push(`${tag}: response to an unknown id`);
      this.problems.push(...this.validate(methodIndex[method]!.result!, message.result).map((p) => `${tag}: ${p}`));
    } else if ('error' in message) {
      this.problems.push(...checkError(this.validate, message.error as Record<string, unknown>).map((p) => `${tag}: ${p}`));
    } else {
      this.problems.push(`${tag}: not a JSON-RPC message`);
    }
  }
}
