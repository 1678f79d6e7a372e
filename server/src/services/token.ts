import { randomBytes } from 'node:crypto';

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
/** Random base name for an uploaded image file (25 characters, as Gotify). */
export const newImageName = (): string => randomString(25, ALPHABET_NO_DOT);
