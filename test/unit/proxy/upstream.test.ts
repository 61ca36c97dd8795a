import type { IncomingMessage } from 'node:http';
import { joinPath, outgoingHeaders, STRIPPED_REQUEST_HEADERS } from '../../../src/proxy/upstream';

describe('joinPath', () => {
  it.each([
    ['/', '/', '/'],
    ['/', '/api/flows/?limit=1', '/api/flows/?limit=1'],
    ['/graphql', '/', '/graphql/'],
    ['/graphql/', '/', '/graphql/'],
    ['/prefix', '/api/flows', '/prefix/api/flows'],
    ['/', '//a///b', '/a/b'],
    ['/', '/a?x=//y', '/a?x=//y'],
  ])('%s + %s → %s', (base, url, joined) => {
    expect(joinPath(base, url)).toBe(joined);
  });
});

const dropped = new Set([...STRIPPED_REQUEST_HEADERS, 'host', 'connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer', 'proxy-connection']);
const request = (headers: Record<string, string>): IncomingMessage =>
  ({ headers, socket: { remoteAddress: '127.0.0.9' } }) as unknown as IncomingMessage;

describe('outgoingHeaders', () => {
  it.each([
    // [client headers, expected subset, names that must be absent]
    [{ authorization: 'Bearer pap_secret', 'x-prefect-user-id': 'admin', 'proxy-authorization': 'Basic x', accept: 'application/json' },
      { accept: 'application/json' }, ['authorization', 'x-prefect-user-id', 'proxy-authorization']],
    [{ connection: 'keep-alive, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', expect: '100-continue', te: 'trailers', 'x-end': '2' },
      { 'x-end': '2' }, ['connection', 'x-hop', 'keep-alive', 'expect', 'te']],
    [{ host: 'proxy.example:8443' },
      { 'x-forwarded-for': '127.0.0.9', 'x-forwarded-port': '8443', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'proxy.example:8443' }, ['host']],
  ])('%j', (headers, expected, absent) => {
    const out = outgoingHeaders(request(headers), dropped, false);
    expect(out).toMatchObject(expected);
    for (const name of absent) expect(out).not.toHaveProperty(name);
  });
});

describe('outgoingHeaders: forwarding headers', () => {
  const client = { host: 'proxy.example', 'x-forwarded-for': '10.1.1.1', 'x-forwarded-host': 'outer.example', 'x-forwarded-proto': 'https', forwarded: 'for=10.1.1.1' };
  it.each([
    // [client is a trusted proxy, expected, absent]
    [true, { 'x-forwarded-for': '10.1.1.1,127.0.0.9', 'x-forwarded-port': '80', 'x-forwarded-proto': 'https,http', 'x-forwarded-host': 'outer.example', forwarded: 'for=10.1.1.1' }, []],
    // Anyone else's claims are replaced: the Prefect server believes these when it trusts the proxy.
    [false, { 'x-forwarded-for': '127.0.0.9', 'x-forwarded-port': '80', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'proxy.example' }, ['forwarded']],
  ])('trusted=%s', (trusted, expected, absent) => {
    const out = outgoingHeaders(request({ ...client }), dropped, trusted);
    expect(out).toMatchObject(expected);
    for (const name of absent) expect(out).not.toHaveProperty(name);
  });
});
