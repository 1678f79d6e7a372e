import type { OutgoingMessage } from '../src/format.js';
import type { PollerHost } from '../src/poller.js';

/** A PollerHost over plain maps: what the plugin host persists, kept across pollers to model a restart. */
export class MemoryHost implements PollerHost {
  readonly messages: OutgoingMessage[] = [];
  readonly logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  /** When set, send() rejects with this text. */
  failSends?: string;
  /** When set, kv.set() rejects with this text. */
  failWrites?: string;

  constructor(readonly store = new Map<string, string>()) {}

  readonly kv = {
    get: async (key: string) => this.store.get(key) ?? null,
    set: async (key: string, value: string) => {
      if (this.failWrites !== undefined) throw new Error(this.failWrites);
      this.store.set(key, value);
    },
    delete: async (key: string) => this.store.delete(key),
    list: async (prefix = '') => [...this.store.keys()].filter((k) => k.startsWith(prefix)).sort(),
  };

  async send(message: OutgoingMessage): Promise<{ id: number }> {
    if (this.failSends !== undefined) throw new Error(this.failSends);
    this.messages.push(message);
    return { id: this.messages.length };
  }

  readonly log = {
    info: (message: string, fields?: Record<string, unknown>) => void this.logs.push({ level: 'info', message, ...(fields ? { fields } : {}) }),
    warn: (message: string, fields?: Record<string, unknown>) => void this.logs.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message: string, fields?: Record<string, unknown>) => void this.logs.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };

  titles(): string[] {
    return this.messages.map((m) => m.title);
  }
}
