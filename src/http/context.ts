// Typed request context: what middleware puts on `c.var` for the handlers after it.
import type { TokenScope } from '../auth/tokens.ts';
import type { ServerLimits } from '../config/schema.ts';
import type { BodyBudget } from './body.ts';

export interface Caller {
  tokenId: number;
  scope: TokenScope;
}

declare module 'hono' {
  interface ContextVariableMap {
    /** The authenticated API caller; set by the bearer-token middleware on `/api/*`. */
    caller: Caller;
    /** The request body, read under its route's byte and time limits (src/http/body.ts). */
    body: Uint8Array<ArrayBuffer>;
    /** The app's body limits (config `server.limits`), for routes mounted beside the app's own. */
    limits: ServerLimits;
    /** Bytes of request bodies all requests of this app may hold at once. */
    bodyBudget: BodyBudget;
  }
}
