import { createAppContext } from '../../src/app-context';
import { parseConfig } from '../../src/config';

describe('the app context: what the configuration implies, computed once', () => {
  it.each([
    [{}, undefined, false],
    [{ API_KIND: 'rest', UPSTREAM_AUTH_STRING: 'admin:s3cret' }, `Basic ${Buffer.from('admin:s3cret').toString('base64')}`, false],
    [{ TRUST_PROXY: 'loopback' }, undefined, true],
  ])('%j', (env, serverAuthorization, trustsLoopback) => {
    const context = createAppContext(parseConfig(env).config);
    expect(context.serverAuthorization).toBe(serverAuthorization);
    expect(context.trust('127.0.0.1', 0)).toBe(trustsLoopback);
    expect(context.apiPrefixSegments).toEqual(['api']);
    expect(Object.isFrozen(context)).toBe(true);
    expect(Object.isFrozen(context.apiPrefixSegments)).toBe(true);
  });
});
