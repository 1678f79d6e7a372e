import { parse as parseYaml } from 'yaml';

/**
 * Nesting allowed in any JSON or YAML document that comes from a user or a plugin. Real
 * documents (message extras, plugin configs, manifests) nest a handful of levels; parsers and
 * JSON.stringify recurse once per level, and a few thousand levels overflow the stack (a 200 KB
 * `[[[[…` crashed the server inside the YAML parser). Checked on the text, before parsing.
 */
export const MAX_NESTING = 64;

/** A document over its size or nesting bound; callers answer it as bad input (HTTP 400, a JSON-RPC error). */
export class DocumentTooLarge extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentTooLarge';
  }
}

export interface Bounds {
  /** UTF-8 bytes; default: no size bound (the caller already bounded the body). */
  maxBytes?: number;
  /** Default MAX_NESTING. */
  maxDepth?: number;
  /** Names the document in the error text ("plugin config", "extras"). */
  what?: string;
}

function checkSize(text: string, b: Bounds): void {
  // text.length ≤ bytes ≤ 3·text.length: count exactly only when it can matter.
  if (b.maxBytes !== undefined && text.length * 3 > b.maxBytes && Buffer.byteLength(text, 'utf8') > b.maxBytes) {
    throw new DocumentTooLarge(`${b.what ?? 'document'} too large: the limit is ${b.maxBytes} bytes`);
  }
}

const tooDeep = (b: Bounds, max: number) => new DocumentTooLarge(`${b.what ?? 'document'} nested too deeply: the limit is ${max} levels`);

/**
 * The deepest bracket nesting of a JSON text (strings skipped, escapes honoured). Malformed
 * text gets some number; JSON.parse rejects it afterwards.
 */
export function jsonDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return max;
}

/** JSON.parse after checking size and nesting; DocumentTooLarge or SyntaxError otherwise. */
export function parseJsonBounded(text: string, b: Bounds = {}): unknown {
  checkSize(text, b);
  const max = b.maxDepth ?? MAX_NESTING;
  if (jsonDepth(text, max) > max) throw tooDeep(b, max);
  return JSON.parse(text);
}

/** Depth of an already parsed value (for values that arrive parsed, e.g. a plugin's message extras). */
export function valueDepth(value: unknown, stopAbove = MAX_NESTING): number {
  // Iterative: the value itself may be deeper than the stack.
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) {
      max = d + 1;
      if (max > stopAbove) return max;
    }
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return max;
}

/** DocumentTooLarge when `value` nests deeper than `maxDepth`. */
export function checkValueDepth(value: unknown, b: Bounds = {}): void {
  const max = b.maxDepth ?? MAX_NESTING;
  if (valueDepth(value, max) > max) throw tooDeep(b, max);
}

/**
 * An upper bound of a YAML text's nesting, without parsing it: per line, the number of
 * enclosing indentation levels, plus the block indicators that open a level on the same line
 * (`- - - x`, `? `, `a: b: c`), plus the open flow brackets (`[[{…`), skipping quoted strings and
 * comments. It may overestimate (indentation inside a block scalar counts), never underestimate,
 * which is the safe side for a bound far above real configs.
 */
export function yamlDepth(text: string, stopAbove = Infinity): number {
  let max = 0;
  let flow = 0;
  const indents: number[] = [];
  let lineStart = true;
  let lineDepth = 0;
  const bump = (n: number): boolean => {
    if (n > max) max = n;
    return max > stopAbove;
  };
  for (let i = 0; i < text.length; i++) {
    let c = text[i]!;
    if (lineStart) {
      let col = 0;
      while (c === ' ' || c === '\t') {
        col++;
        c = text[++i] ?? '';
      }
      if (c === '\n' || c === '\r' || c === '#' || c === '') {
        // Blank or comment-only lines do not change the structure.
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      lineStart = false;
      if (flow === 0) {
        while (indents.length > 0 && indents[indents.length - 1]! >= col) indents.pop();
        indents.push(col);
      }
      lineDepth = indents.length;
      if (bump(lineDepth + flow)) return max;
    }
    if (c === '\n') {
      lineStart = true;
      continue;
    }
    if (c === '"' || c === "'") {
      const q = c;
      for (i++; i < text.length; i++) {
        const d = text[i];
        if (q === '"' && d === '\\') i++;
        else if (d === q) {
          if (q === "'" && text[i + 1] === "'") i++;
          else break;
        }
      }
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      flow++;
      if (bump(lineDepth + flow)) return max;
    } else if (c === ']' || c === '}') {
      if (flow > 0) flow--;
    } else if ((c === '-' || c === '?' || c === ':') && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
      lineDepth++;
      if (bump(lineDepth + flow)) return max;
    }
  }
  return max;
}

/** YAML parse after checking size and nesting; DocumentTooLarge, or the parser's own error. */
export function parseYamlBounded(text: string, b: Bounds = {}): unknown {
  checkSize(text, b);
  const max = b.maxDepth ?? MAX_NESTING;
  if (yamlDepth(text, max) > max) throw tooDeep(b, max);
  // maxAliasCount: the parser's own bound on alias expansion ("billion laughs").
  return parseYaml(text, { maxAliasCount: 100 });
}
