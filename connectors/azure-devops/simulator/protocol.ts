// The simulator's request/response shapes and the service's JSON error body.

export interface SimRequest {
  method: string;
  /** Path segments after the organization, `_apis` included. */
  segments: string[];
  query: URLSearchParams;
  body: unknown;
  /** The identity the request's PAT belongs to; the simulator's bot when omitted. */
  as?: import('./store.ts').SimIdentity;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export function apiError(status: number, message: string, typeKey = 'VssServiceException'): SimResponse {
  return {
    status,
    body: {
      $id: '1',
      innerException: null,
      message,
      typeName: `Microsoft.VisualStudio.Services.WebApi.${typeKey}`,
      typeKey,
      errorCode: 0,
      eventId: 3000,
    },
  };
}
