import { FlowError } from '../errors.js';

/**
 * Runs `attempt` with fresh random tokens until it does not collide. A collision of 14 random
 * characters is astronomically rare; the bound only guards against a broken generator.
 */
export async function withFreshToken<T>(gen: () => string, attempt: (token: string) => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt(gen());
    } catch (err) {
      if (!(err instanceof FlowError && err.code === 'FLOW_ERR_STORE_CONFLICT' && err.message === 'token already exists') || i >= 9) throw err;
    }
  }
}
