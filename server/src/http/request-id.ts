import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { AuthInfo, FlowMiddleware, FlowState } from './state.js';

const VALID = /^[\w.:-]{1,64}$/;

/**
 * `ctx.state` of a Flow request. The child logger bound to `reqId` is created on first use:
 * most requests never log through it (the access log writes its line on the root logger), and
 * a pino child with redaction configured costs about as much as the rest of the middleware.
 */
class RequestState implements FlowState {
  auth?: AuthInfo;
  private child: Logger | undefined;

  constructor(
    private readonly root: Logger,
    readonly reqId: string,
  ) {}

  get log(): Logger {
    return (this.child ??= this.root.child({ reqId: this.reqId }));
  }
}

/** Gives each request an id (the caller's X-Request-Id when sane) and a logger bound to it. */
export function requestId(root: Logger): FlowMiddleware {
  // On Node's objects directly: Koa's ctx.get/ctx.set go through two delegating layers each.
  return (ctx, next) => {
    const given = ctx.req.headers['x-request-id'];
    const reqId = typeof given === 'string' && VALID.test(given) ? given : randomUUID();
    ctx.state = new RequestState(root, reqId);
    ctx.res.setHeader('X-Request-Id', reqId);
    return next();
  };
}
