import type { IncomingMessage } from 'node:http';
import { isJsonContentType } from '../../../src/http/body';
import { clientOrigin, compileTrust, pathOfTarget } from '../../../src/http/request-scope';

describe('pathOfTarget', () => {
  it.each([
    ['/', '/'],
    ['/api/flows?limit=1', '/api/flows'],
    ['/healthcheck', '/healthcheck'],
    ['//admin/keys', '//admin/keys'],
    ['/?', '/'],
    // Absolute-form and asterisk targets are for forward proxies: no path, so the request is refused.
    ['http://upstream/admin/keys', undefined],
    ['*', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (target, path) => {
    expect(pathOfTarget(target)).toBe(path);
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON', true],
    ['application/json; charset=utf-8', true],
    ['application/json;charset="UTF-8"', true],
    ['application/json; charset=utf8', true],
    ['application/json; boundary=x', true],
    ['application/json; charset=latin1', false],
    ['application/json; charset=utf-16', false],
    ['application/jsonp', false],
    ['application/graphql', false],
    ['text/json', false],
    ['application/x-www-form-urlencoded', false],
    ['', false],
    [undefined, false],
  ])('%j → %s', (header, json) => {
    expect(isJsonContentType(header)).toBe(json);
  });
});

const request = (remoteAddress: string, headers: Record<string, string>, encrypted = false): IncomingMessage =>
  ({ headers, socket: { remoteAddress, encrypted } }) as unknown as IncomingMessage;

describe('compileTrust and clientOrigin', () => {
  it.each([
    // [TRUST_PROXY, socket address, headers, origin the proxy writes in links]
    [false, '10.0.0.5', { host: 'proxy:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }, 'http://proxy:8080'],
    [true, '10.0.0.5', { host: 'proxy:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'prefect.example' }, 'https://prefect.example'],
    [1, '10.0.0.5', { host: 'proxy:8080', 'x-forwarded-proto': 'https, http' }, 'https://proxy:8080'],
    ['10.0.0.0/8', '10.0.0.5', { host: 'proxy', 'x-forwarded-host': 'a.example, b.example' }, 'http://a.example'],
    ['10.0.0.0/8', '192.168.1.9', { host: 'proxy', 'x-forwarded-proto': 'https' }, 'http://proxy'],
    ['loopback', '127.0.0.1', { host: 'proxy', 'x-forwarded-proto': 'https' }, 'https://proxy'],
    [false, '10.0.0.5', {}, 'http://localhost'],
  ] as const)('TRUST_PROXY=%j from %s', (trust, address, headers, origin) => {
    expect(clientOrigin(request(address, { ...headers }), compileTrust(trust))).toBe(origin);
  });

  it('uses https for a TLS socket when nobody trusted says otherwise', () => {
    expect(clientOrigin(request('10.0.0.5', { host: 'p' }, true), compileTrust(false))).toBe('https://p');
  });
});
