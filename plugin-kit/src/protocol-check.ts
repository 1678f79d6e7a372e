import { ERROR_DATA, methodByName, type Direction } from '@flow/protocol';

/**
 * Checks each message one side sends against the protocol's zod schemas: envelope, method and
 * direction, params, and for responses the result schema of the request they answer. The test
 * host runs every message a plugin sends through one, so a kit or plugin bug that puts a wrong
 * shape on the wire fails the plugin's own tests instead of the server's.
 */
export class ProtocolChecker {
  /** Human-readable problems, in the order they were seen. */
  readonly violations: string[] = [];
  /** Requests the other side sent and the checked side has not answered yet: id → method. */
  private readonly awaitingAnswer = new Map<string, string>();

  /** @param sender the side whose messages `check` receives. */
  constructor(private readonly sender: Direction) {}

  /** Call with every request the other side sends, so the answers can be matched to a method. */
  expectAnswer(id: number | string, method: string): void {
    this.awaitingAnswer.set(JSON.stringify(id), method);
  }

  /** Checks one message sent by the checked side; returns its problems (also kept in `violations`). */
  check(message: unknown): string[] {
    const problems = this.problems(message);
    this.violations.push(...problems);
    return problems;
  }

  private problems(message: unknown): string[] {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return [`not a JSON object: ${JSON.stringify(message)}`];
    const m = message as Record<string, unknown>;
    const where = `${'method' in m ? String(m.method) : 'response'}${'id' in m ? ` #${JSON.stringify(m.id)}` : ''}`;
    if (m.jsonrpc !== '2.0') return [`${where}: "jsonrpc" is not "2.0"`];
    const allowed = new Set(['jsonrpc', 'id', 'method', 'params', 'result', 'error']);
    const extra = Object.keys(m).filter((key) => !allowed.has(key));
    if (extra.length > 0) return [`${where}: unexpected members ${extra.join(', ')}`];
    if (typeof m.method === 'string') return this.checkCall(m, where);
    return this.checkResponse(m, where);
  }

  private checkCall(m: Record<string, unknown>, where: string): string[] {
    const method = m.method as string;
    const isRequest = 'id' in m;
    if (isRequest && typeof m.id !== 'number' && typeof m.id !== 'string') return [`${where}: id must be a number or a string`];
    if (method === '$/cancelRequest') {
      const id = (m.params as { id?: unknown } | undefined)?.id;
      return !isRequest && (typeof id === 'number' || typeof id === 'string') ? [] : [`${where}: $/cancelRequest must be a notification with params {id}`];
    }
    const definition = methodByName(method);
    if (!definition) return [`${where}: method is not in protocol v1`];
    if (definition.direction !== this.sender) return [`${where}: ${method} is sent ${definition.direction}, not ${this.sender}`];
    if (isRequest !== (definition.kind === 'request')) return [`${where}: ${method} is a ${definition.kind}`];
    const params = definition.params.safeParse(m.params);
    return params.success ? [] : [`${where}: params do not match the schema: ${formatIssues(params.error.issues)}`];
  }

  private checkResponse(m: Record<string, unknown>, where: string): string[] {
    if (!('id' in m)) return [`${where}: a response needs an id`];
    const hasResult = 'result' in m;
    const hasError = 'error' in m;
    if (hasResult === hasError) return [`${where}: a response has exactly one of result and error`];
    if (hasError) {
      const error = m.error as Record<string, unknown> | null;
      if (typeof error !== 'object' || error === null || !Number.isInteger(error.code) || typeof error.message !== 'string') {
        return [`${where}: error must be {code: integer, message: string, data?}`];
      }
      if (m.id !== null) this.awaitingAnswer.delete(JSON.stringify(m.id));
      const data = ERROR_DATA.get(error.code as number);
      if (!data || (error.data === undefined && !data.required)) return [];
      const parsed = data.schema.safeParse(error.data);
      return parsed.success ? [] : [`${where}: error data of code ${String(error.code)} does not match the schema: ${formatIssues(parsed.error.issues)}`];
    }
    if (m.id === null) return [`${where}: a result with id null`];
    const key = JSON.stringify(m.id);
    const method = this.awaitingAnswer.get(key);
    if (!method) return [`${where}: answers no pending request`];
    this.awaitingAnswer.delete(key);
    const definition = methodByName(method);
    if (!definition || definition.kind !== 'request') return [];
    const result = definition.result.safeParse(m.result);
    return result.success ? [] : [`${where} (${method}): result does not match the schema: ${formatIssues(result.error.issues)}`];
  }
}

function formatIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
}
