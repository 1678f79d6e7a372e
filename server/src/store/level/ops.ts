// The LevelDB key and write vocabulary every entity store of this backend shares.

/** One LevelDB write; a change that touches several keys is always one `batch` of these. */
export type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** Fixed-width ids so LevelDB's byte order is numeric order (newest first = reverse scan). */
export const pad = (id: number): string => id.toString().padStart(16, '0');

/**
 * Exclusive upper bound of all keys starting with `prefix`: the prefix with its last character
 * incremented. (`prefix + '\xff'` would be wrong: keys are UTF-8, and any key continuing with a
 * character from U+0100 up sorts above it.)
 */
export const prefixEnd = (prefix: string): string =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/** One store's share of a cascading delete: its ops, and memory updates to apply after the batch. */
export interface CascadePart {
  ops: Op[];
  commit: () => void;
  abort: () => void;
}

export const put = (key: string, value: unknown): Op => ({ type: 'put', key, value: JSON.stringify(value) });
export const putRaw = (key: string, value: string): Op => ({ type: 'put', key, value });
export const del = (key: string): Op => ({ type: 'del', key });
