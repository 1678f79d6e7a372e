import { z } from 'zod';

/**
 * What a plugin can do, declared in its `initialize` result. The first five are Gotify's
 * names (so a Gotify user reads them the same); `subscriber` is Flow's: the instance
 * receives its user's new messages through `message/received`.
 *
 * A host never sends a capability's methods to a plugin that did not declare it, and
 * refuses a plugin's call to a host method whose capability it did not declare
 * (NotSupported). Unknown capability strings from a newer plugin are ignored.
 */
export const CAPABILITIES = ['configurer', 'displayer', 'messenger', 'storager', 'webhooker', 'subscriber'] as const;

export const Capability = z.enum(CAPABILITIES);
export type Capability = z.infer<typeof Capability>;

export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && (CAPABILITIES as readonly string[]).includes(value);
}
