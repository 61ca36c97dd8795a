import { checkIssuerUrl, isLoopbackHost, SignInError } from '../../../src/signin';

describe('checkIssuerUrl', () => {
  it.each<[string, boolean]>([
    ['https://login.example.com', false],
    ['https://login.example.com/realms/prefect', false],
    ['http://127.0.0.1:8080', true],
    ['http://127.5.6.7', true],
    ['http://localhost:9000/realms/x', true],
    ['http://[::1]:8080', true],
  ])('accepts %s', (url, allowHttp) => {
    expect(checkIssuerUrl(url).allowHttp).toBe(allowHttp);
  });

  it.each<[string, string, RegExp]>([
    ['http://login.example.com', 'insecure_issuer', /must use https/],
    ['http://10.1.2.3', 'insecure_issuer', /must use https/],
    ['http://127.0.0.1.evil.example', 'insecure_issuer', /must use https/],
    ['http://localhost.evil.example', 'insecure_issuer', /must use https/],
    ['ftp://127.0.0.1', 'insecure_issuer', /must use https/],
    ['not a url', 'discovery_failed', /not a URL/],
    ['https://user:pw@login.example.com', 'discovery_failed', /no user name, password/],
    ['https://login.example.com/?tenant=a', 'discovery_failed', /query/],
    ['https://login.example.com/.well-known/openid-configuration', 'discovery_failed', /not its discovery document/],
  ])('refuses %s', (url, code, message) => {
    let thrown: unknown;
    try {
      checkIssuerUrl(url);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SignInError);
    expect(thrown).toMatchObject({ code, message: expect.stringMatching(message) });
    expect((thrown as Error).message).not.toContain('pw');
  });
});

describe('isLoopbackHost', () => {
  it.each<[string, boolean]>([
    ['localhost', true], ['127.0.0.1', true], ['127.255.0.1', true], ['[::1]', true],
    ['128.0.0.1', false], ['127.0.0.1.nip.io', false], ['localhost.example', false], ['0.0.0.0', false],
  ])('%s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
