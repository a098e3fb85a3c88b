// The error shapes below HTTP that real sockets in connection-errors.test.ts cannot produce here
// (an untrusted certificate, a DNS server that does not answer, undici's AggregateError when
// every address refused, typed-rest-client's own timeout), each said in one line.
import { describe, expect, test } from 'vitest';
import { describeNetworkError } from './net-errors.ts';

const ctx = { url: 'https://acme.atlassian.net/rest/api/3/myself', setting: 'baseUrl', timeoutMs: 30_000 };

/** What undici's fetch throws: "fetch failed", the real error in `cause`. */
const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });
const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('describeNetworkError', () => {
  test.each([
    [
      'an untrusted certificate',
      fetchFailed(coded('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')),
      'TLS error with acme.atlassian.net: its certificate is not accepted (DEPTH_ZERO_SELF_SIGNED_CERT); check baseUrl, or set NODE_EXTRA_CA_CERTS for a private CA',
      false,
    ],
    [
      'a certificate for another name',
      coded('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      'TLS error with acme.atlassian.net: its certificate is not accepted (ERR_TLS_CERT_ALTNAME_INVALID); check baseUrl, or set NODE_EXTRA_CA_CERTS for a private CA',
      false,
    ],
    [
      'a DNS server that does not answer',
      fetchFailed(coded('EAI_AGAIN', 'getaddrinfo EAI_AGAIN acme.atlassian.net')),
      'the DNS lookup of acme.atlassian.net failed for now (EAI_AGAIN); check the network and DNS',
      true,
    ],
    [
      'every address refused (AggregateError)',
      fetchFailed(
        Object.assign(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], ''), {
          code: 'ECONNREFUSED',
        }),
      ),
      'acme.atlassian.net refused the connection (ECONNREFUSED); check the host and port in baseUrl and that the service is up',
      true,
    ],
    [
      'typed-rest-client’s socket timeout',
      new Error('Request timeout: /acme/_apis/Location'),
      'acme.atlassian.net did not answer within 30000 ms (timeout); check that baseUrl is the tracker and that it is up',
      true,
    ],
    [
      'a connection dropped mid-answer',
      fetchFailed(coded('UND_ERR_SOCKET', 'other side closed')),
      'acme.atlassian.net dropped the connection (UND_ERR_SOCKET)',
      true,
    ],
    [
      'a network that cannot reach the host',
      coded('EHOSTUNREACH'),
      'cannot connect to acme.atlassian.net (EHOSTUNREACH); check the network, proxy and firewall',
      true,
    ],
    ['something else', fetchFailed(new Error('bad port')), 'the request to acme.atlassian.net failed: bad port', true],
  ])('%s', (_what, err, message, transient) => {
    const p = describeNetworkError(err, ctx);
    expect({ message: p.message, transient: p.transient }).toEqual({ message, transient });
  });
});
