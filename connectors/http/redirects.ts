// Redirects followed by us, never by fetch: fetch's own "follow" decides on its own whether the
// Authorization header and the body go to the next hop. Here every hop is checked first by the
// connection's credential policy (which hosts may receive the credential), and one outside it
// ends the request before anything is sent there.

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface RedirectPolicy {
  /** Throws (naming the host) when a credentialed request may not go to `target`. */
  check(target: URL): void;
  /** Hops before giving up (default 5). */
  maxRedirects?: number;
}

export class TooManyRedirectsError extends Error {
  readonly url: URL;
  constructor(url: URL) {
    super(`too many redirects, the last to ${url.host}`);
    this.name = 'TooManyRedirectsError';
    this.url = url;
  }
}

/**
 * `fetch` with `redirect: 'manual'`, following 3xx only to targets the policy allows. 303, and a
 * 301/302 answering a POST, continue as a GET without a body (what every user agent does); 307
 * and 308 repeat the method and body.
 */
export async function fetchWithinPolicy(
  doFetch: typeof fetch,
  url: string | URL,
  init: RequestInit,
  policy: RedirectPolicy,
): Promise<{ response: Response; url: URL }> {
  let current = new URL(url);
  policy.check(current);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  let headers = new Headers(init.headers);
  const max = policy.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    const response = await doFetch(current, { ...init, method, body, headers, redirect: 'manual' });
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || !location) return { response, url: current };
    await response.body?.cancel().catch(() => {});
    const next = new URL(location, current);
    policy.check(next);
    if (hop + 1 > max) throw new TooManyRedirectsError(next);
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
      headers = new Headers(headers);
      headers.delete('content-type');
    }
    current = next;
  }
}
