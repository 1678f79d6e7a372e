import { readFields } from '../http/body.js';
import { authOf, type FlowContext } from '../http/state.js';
import { idParam } from './deps.js';

/** What the routes of a resource a user owns by token (application, client) use of its service. */
export interface OwnedResourceService {
  /** The caller's record, else the resource's own 404. */
  requireOwned(userId: number, id: number): unknown;
  regenerateToken(userId: number, id: number): Promise<{ token: string }>;
}

type ParamsContext = FlowContext & { params?: Record<string, string> };

/** The `:id` of a resource the caller owns (else the service's 404), with the caller's user id. */
export function ownedIdParam(ctx: ParamsContext, service: OwnedResourceService): { id: number; userId: number } {
  const id = idParam(ctx);
  const userId = authOf(ctx).userId;
  service.requireOwned(userId, id);
  return { id, userId };
}

/**
 * Gotify 3's `PUT /<resource>/:id/security`: `regenerateToken: true` rotates the token and answers
 * the new one once (`{"regenerateToken": {"token"}}`); any other body changes nothing and answers `{}`.
 */
export function regenerateTokenRoute(service: OwnedResourceService, limit: number): (ctx: ParamsContext) => Promise<void> {
  return async (ctx) => {
    const { id, userId } = ownedIdParam(ctx, service);
    const f = await readFields(ctx, limit);
    if (f.bool('regenerateToken') !== true) {
      ctx.body = {};
      return;
    }
    const { token } = await service.regenerateToken(userId, id);
    ctx.body = { regenerateToken: { token } };
  };
}
