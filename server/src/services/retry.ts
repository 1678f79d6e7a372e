import { FlowError } from '../errors.js';
import { issueToken, type Issued, type IssuedToken, type TokenFormat } from './token.js';

/**
 * Saves a record under a new token of `kind` (`save` gets the stored form), drawing another
 * token while the store reports a collision; returns the record with the token its owner gets
 * once. A collision of 14 random characters is astronomically rare; the bound only guards
 * against a broken generator.
 */
export async function withFreshToken<T>(kind: 'application' | 'client', format: TokenFormat, save: (token: string) => Promise<T>): Promise<Issued<T>> {
  for (let i = 0; ; i++) {
    const issued: IssuedToken = issueToken(kind, format);
    try {
      return { record: await save(issued.stored), token: issued.shown };
    } catch (err) {
      if (!(err instanceof FlowError && err.code === 'FLOW_ERR_STORE_CONFLICT' && err.message === 'token already exists') || i >= 9) throw err;
    }
  }
}
