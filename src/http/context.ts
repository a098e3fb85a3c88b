// Typed request context: what middleware puts on `c.var` for the handlers after it.
import type { TokenScope } from '../auth/tokens.ts';

export interface Caller {
  tokenId: number;
  scope: TokenScope;
}

declare module 'hono' {
  interface ContextVariableMap {
    /** The authenticated API caller; set by the bearer-token middleware on `/api/*`. */
    caller: Caller;
  }
}
