import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { FlowMiddleware } from './state.js';

const VALID = /^[\w.:-]{1,64}$/;

/** Gives each request an id (the caller's X-Request-Id when sane) and a logger bound to it. */
export function requestId(root: Logger): FlowMiddleware {
  return async (ctx, next) => {
    const given = ctx.get('x-request-id');
    ctx.state.reqId = VALID.test(given) ? given : randomUUID();
    ctx.state.log = root.child({ reqId: ctx.state.reqId });
    ctx.set('X-Request-Id', ctx.state.reqId);
    await next();
  };
}
