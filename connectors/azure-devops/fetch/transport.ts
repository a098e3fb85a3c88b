// A fetch-based transport for the Azure DevOps client, for runtimes where node:http is an
// emulation or absent (Cloudflare Workers). It does what azure-devops-node-api does for
// client.ts's `send`, and no more: OPTIONS `/_apis/{area}` location discovery (cached per area,
// shared by concurrent callers), route-template filling, api-version negotiation, and an
// authenticated request (a PAT, or an Entra ID token) — sent only within the organization (origins.ts), redirects followed
// by hand within it. Retries, pacing and typed errors stay in client.ts, which this plugs into
// (`transport: 'fetch'`); it answers in the same raw shape.

import { parseJson } from '../../../src/core/json.ts';
import { fetchWithinPolicy } from '../../http/redirects.ts';
import { endpointLabel } from '../endpoint.ts';
import { checkOrigin, createOrgPolicy } from '../origins.ts';

export interface AdoTransportCall {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  area: string;
  locationId: string;
  apiVersion: string;
  routeValues?: Record<string, string | number>;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  contentType?: string;
}

/** One HTTP exchange, as client.ts reads it. */
export interface AdoRawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The answer of location discovery (OPTIONS `/_apis/{area}`), not of the call itself. */
  discovery?: boolean;
}

interface AdoResourceLocation {
  id: string;
  area: string;
  resourceName: string;
  routeTemplate: string;
  resourceVersion: number;
  maxVersion: string;
  releasedVersion: string;
}

export interface FetchTransportOptions {
  orgUrl: string;
  /** A PAT (sent as Basic), unless `authorization` is given. */
  pat?: string;
  /** The Authorization header for each request (client.ts passes its credential's). */
  authorization?: () => Promise<string>;
  /** Called before every request (discovery included), for the client's counters. */
  onRequest?(endpoint: string): void;
  fetch?: typeof fetch;
  /** Aborted when the connection closes: ends discovery, which callers share. */
  closing?: AbortSignal;
  /** Discovery requests without an answer for this long fail (default 30 s). */
  timeoutMs?: number;
}

/** One call; `signal` ends it (the caller's timeout, close, a pull's abort). */
export type AdoTransport = (c: AdoTransportCall, signal?: AbortSignal) => Promise<AdoRawReply>;

export function createFetchTransport(opts: FetchTransportOptions): AdoTransport {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.orgUrl.replace(/\/+$/, '');
  const basic = `Basic ${btoa(`:${opts.pat ?? ''}`)}`;
  const authorize = opts.authorization ?? (async () => basic);
  const policy = createOrgPolicy(opts.orgUrl);
  const redirects = { check: (target: URL) => checkOrigin(policy, target) };
  const areas = new Map<string, Promise<Map<string, AdoResourceLocation> | AdoRawReply>>();

  const exchange = async (
    req: { method: string; url: string; body?: string; contentType?: string; accept?: string },
    signal: AbortSignal | undefined,
  ) => {
    checkOrigin(policy, new URL(req.url));
    const authorization = await authorize();
    opts.onRequest?.(endpointLabel(req.method, new URL(req.url).pathname));
    const { response: res } = await fetchWithinPolicy(
      doFetch,
      req.url,
      {
        method: req.method,
        headers: {
          authorization,
          accept: req.accept ?? 'application/json',
          ...(req.body === undefined ? {} : { 'content-type': req.contentType ?? 'application/json' }),
        },
        body: req.body,
        signal,
      },
      redirects,
    );
    const headers: AdoRawReply['headers'] = {};
    res.headers.forEach((v, k) => {
      headers[k.toLowerCase()] = v;
    });
    return { status: res.status, headers, text: await res.text() };
  };

  /** The area's locations by id, or the failed discovery reply (handed back as the call's). */
  const locationsOf = (area: string) => {
    let p = areas.get(area);
    if (!p) {
      // Shared by every caller, so bound by the connection's life and a timeout, not one caller's signal.
      const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
      const signal = opts.closing ? AbortSignal.any([opts.closing, timeout]) : timeout;
      p = exchange({ method: 'OPTIONS', url: `${base}/_apis/${area}` }, signal).then((raw) => {
        if (raw.status < 200 || raw.status >= 300) return { ...raw, discovery: true };
        const list = (parseJson(raw.text) as { value?: AdoResourceLocation[] }).value ?? [];
        return new Map(list.map((l) => [l.id.toLowerCase(), l]));
      });
      areas.set(area, p);
      // A failed discovery is asked again next time, not remembered.
      p.then(
        (r) => {
          if (!(r instanceof Map)) areas.delete(area);
        },
        () => areas.delete(area),
      );
    }
    return p;
  };

  return async (c, signal) => {
    const found = await locationsOf(c.area);
    if (!(found instanceof Map)) return found;
    const location = found.get(c.locationId.toLowerCase());
    if (!location) throw new Error(`no location ${c.locationId} in area ${c.area}`);
    const route: Record<string, string> = { area: location.area, resource: location.resourceName };
    for (const [k, v] of Object.entries(c.routeValues ?? {})) route[k] = String(v);
    const path = fillRoute(location.routeTemplate, route);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(c.query ?? {})) query.set(k, String(v));
    const qs = query.toString();
    const url = `${base}/${path}${qs ? `?${qs}` : ''}`;
    const version = negotiateVersion(location, c.apiVersion);
    return exchange(
      {
        method: c.method,
        url,
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
        contentType: c.contentType,
        accept: `application/json;api-version=${version}`,
      },
      signal,
    );
  };
}

/**
 * `{project}/_apis/{area}/{resource}/{id}` with values filled; a segment whose parameters are
 * all missing is dropped, as the service's own clients do. `{*path}` takes the `path` value.
 */
export function fillRoute(template: string, values: Record<string, string>): string {
  return template
    .split('/')
    .map((segment) =>
      segment.replace(/\{\*?([^}]+)\}/g, (_m, name: string) => {
        const v = values[name] ?? values[name.replace(/[^a-z0-9]/gi, '')];
        return v ? encodeURIComponent(v) : '';
      }),
    )
    .filter((s) => s.length > 0)
    .join('/');
}

/** The SDK's rule: the requested version when the location supports it, else the nearest it does. */
export function negotiateVersion(location: AdoResourceLocation, requested: string): string {
  const m = /(\d+(\.\d+)?)(-preview(\.(\d+))?)?/.exec(requested);
  const version = m ? Number(m[1]) : Number.NaN;
  const preview = Boolean(m?.[3]);
  const resourceVersion = m?.[5] ? Number(m[5]) : undefined;
  const max = Number(location.maxVersion);
  if (
    version <= Number(location.releasedVersion) ||
    (resourceVersion === undefined && preview && version <= max) ||
    (resourceVersion !== undefined && version <= max && resourceVersion <= location.resourceVersion)
  ) {
    return requested;
  }
  if (version < max) return `${m?.[1]}-preview`;
  if (location.maxVersion === location.releasedVersion) return location.maxVersion;
  return `${location.maxVersion}-preview.${location.resourceVersion}`;
}
