import { checkEnhancedToken, isEnhancedToken } from '../services/enhanced-token.js';

/** Private forms already verified (deriving a public key costs ~1 ms); bounded, oldest dropped first. */
const privateToPublic = new Map<string, string>();
const CACHE_MAX = 10_000;

/**
 * The form under which a presented token is stored: classic tokens (`A…`, `C…`) as they are;
 * Gotify 3 enhanced tokens (`gtfya.`/`gtfyc.`, private or signed form) verified as Gotify 3 does
 * and mapped to their public form; an enhanced token that fails verification maps to '' (no match).
 */
export function storedTokenOf(token: string, nowSeconds?: number): string {
  if (!isEnhancedToken(token)) return token;
  const cached = privateToPublic.get(token);
  if (cached !== undefined) return cached;
  const checked = checkEnhancedToken(token, nowSeconds);
  if (!checked.ok) return '';
  // Only the private form (2 fields) is stable; signed forms carry a timestamp and change every time.
  if (token.split('.').length === 2) {
    if (privateToPublic.size >= CACHE_MAX) privateToPublic.delete(privateToPublic.keys().next().value!);
    privateToPublic.set(token, checked.publicForm);
  }
  return checked.publicForm;
}
