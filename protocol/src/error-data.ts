import { z } from 'zod';
import { ErrorCodes } from './errors.js';

/**
 * The `data` of the error responses that carry one (spec/protocol.md §10). Receivers must
 * still accept an error whose data is missing or has more fields: data helps a human or a
 * retry policy, it never changes what the error means.
 */

export const IncompatibleVersionData = z
  .object({
    hostVersions: z.array(z.string()).describe('The versions the host offered in `initialize`.'),
    pluginVersions: z.array(z.string()).describe('The versions the plugin speaks.'),
  })
  .meta({ id: 'IncompatibleVersionData' });
export type IncompatibleVersionData = z.infer<typeof IncompatibleVersionData>;

export const InvalidParamsData = z
  .object({
    issues: z
      .array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() }))
      .describe('One entry per problem: where in params (`[]` for params itself) and what is wrong.'),
  })
  .meta({ id: 'InvalidParamsData' });
export type InvalidParamsData = z.infer<typeof InvalidParamsData>;

export const TimeoutData = z.object({ timeoutMs: z.number().int().nonnegative() }).meta({ id: 'TimeoutData' });
export type TimeoutData = z.infer<typeof TimeoutData>;

export const UnknownInstanceData = z.object({ instanceId: z.string() }).meta({ id: 'UnknownInstanceData' });
export type UnknownInstanceData = z.infer<typeof UnknownInstanceData>;

export const QuotaExceededData = z
  .object({
    limitBytes: z.number().int().positive(),
    usedBytes: z.number().int().nonnegative().describe('Current usage, without the refused write.'),
  })
  .meta({ id: 'QuotaExceededData' });
export type QuotaExceededData = z.infer<typeof QuotaExceededData>;

export const FrameTooLargeData = z
  .object({ limitBytes: z.number().int().positive(), frameBytes: z.number().int().positive() })
  .meta({ id: 'FrameTooLargeData' });
export type FrameTooLargeData = z.infer<typeof FrameTooLargeData>;

/** The data schema of each code that has one; `required` codes always carry it. */
export const ERROR_DATA: ReadonlyMap<number, { schema: z.ZodType; required: boolean }> = new Map([
  [ErrorCodes.InvalidParams, { schema: InvalidParamsData, required: false }],
  [ErrorCodes.Timeout, { schema: TimeoutData, required: false }],
  [ErrorCodes.UnknownInstance, { schema: UnknownInstanceData, required: false }],
  [ErrorCodes.IncompatibleVersion, { schema: IncompatibleVersionData, required: true }],
  [ErrorCodes.QuotaExceeded, { schema: QuotaExceededData, required: true }],
  [ErrorCodes.FrameTooLarge, { schema: FrameTooLargeData, required: true }],
]);
