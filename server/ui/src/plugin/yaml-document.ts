import { isScalar, isSeq, parseDocument } from 'yaml';
import type { PathSegment } from './config-schema';

/**
 * The YAML side of the configuration form: the form's edits are applied to the parsed document (not to a
 * re-serialised object), so comments, key order and formatting of everything else stay as the user wrote them.
 * Loaded lazily, with the form, only for plugins that declare a schema.
 */

export interface ParsedConfig {
  value: unknown;
  /** The first syntax error, when the text is not valid YAML (the form cannot show it then). */
  error: string | null;
}

export function parseConfig(text: string): ParsedConfig {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { value: undefined, error: doc.errors[0]!.message };
  return { value: doc.toJS() as unknown, error: null };
}

function edit(text: string, change: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`The YAML has an error; fix it in the YAML editor first: ${doc.errors[0]!.message}`);
  change(doc);
  return doc.toString();
}

const isPlain = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

export function setIn(text: string, path: PathSegment[], value: unknown): string {
  return edit(text, (doc) => {
    const node = doc.getIn(path, true);
    // Changing a scalar in place keeps its comment, and its quoting unless that only came from an empty
    // string ("" of a new item) or another type: then the plainest style that reads back the same is used.
    if (isScalar(node) && isPlain(value)) {
      const keepStyle = typeof node.value === typeof value && node.value !== '';
      node.value = value;
      if (!keepStyle) node.type = undefined;
    } else doc.setIn(path, doc.createNode(value));
  });
}

export function removeIn(text: string, path: PathSegment[]): string {
  return edit(text, (doc) => {
    if (doc.hasIn(path)) doc.deleteIn(path);
  });
}

export function appendIn(text: string, path: PathSegment[], value: unknown): string {
  return edit(text, (doc) => {
    if (isSeq(doc.getIn(path, true))) doc.addIn(path, doc.createNode(value));
    else doc.setIn(path, doc.createNode([value]));
  });
}
