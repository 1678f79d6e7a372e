import { randomBytes } from 'node:crypto';
import { newEnhancedToken } from './enhanced-token.js';

/** Gotify 2.9.1's token alphabet (65 characters, includes '.'). */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_';
/** Gotify 3's plugin-token alphabet: the same without '.' (64 characters, URL-path friendly). */
const ALPHABET_NO_DOT = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

/** Uniform random string from a CSPRNG (rejection sampling, so no modulo bias). */
export function randomString(length: number, alphabet: string): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit) out += alphabet[b % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** `A` + 14 characters, as Gotify 2.9.1. */
export const newApplicationToken = (): string => 'A' + randomString(14, ALPHABET);
/** `C` + 14 characters, as Gotify 2.9.1. */
export const newClientToken = (): string => 'C' + randomString(14, ALPHABET);
/** `P` + 22 characters of [A-Za-z0-9_-] (~2^132), as Gotify 3. */
export const newPluginToken = (): string => 'P' + randomString(22, ALPHABET_NO_DOT);
/** Which form new application and client tokens take (config `tokenformat`). */
export type TokenFormat = 'classic' | 'enhanced';

/** A new token: `stored` is what the server keeps and looks up, `shown` what the owner gets once. */
export interface IssuedToken {
  stored: string;
  shown: string;
}

/**
 * Classic tokens (`A…`/`C…`, 15 characters: what the Gotify CLI and shoutrrr accept) are stored
 * as shown; Gotify 3 enhanced tokens store only the public form (services/enhanced-token.ts).
 */
export function issueToken(kind: 'application' | 'client', format: TokenFormat): IssuedToken {
  if (format === 'enhanced') {
    const t = newEnhancedToken(kind === 'application' ? 'a' : 'c');
    return { stored: t.publicForm, shown: t.privateForm };
  }
  const token = kind === 'application' ? newApplicationToken() : newClientToken();
  return { stored: token, shown: token };
}

/** A record with its token as its owner gets it, once (enhanced tokens: the private form). */
export interface Issued<T> {
  record: T;
  token: string;
}

/** Random base name for an uploaded image file (25 characters, as Gotify). */
export const newImageName = (): string => randomString(25, ALPHABET_NO_DOT);
