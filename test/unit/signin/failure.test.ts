import { isSignInError, SignInError } from '../../../src/signin';
import { toSignInError } from '../../../src/signin/failure';

const authorizationError = (error: string, description?: string) => Object.assign(new Error('authorization response from the server is an error'), {
  code: 'OAUTH_AUTHORIZATION_RESPONSE_ERROR', error, error_description: description, cause: new URLSearchParams({ code: 'SECRET-CODE' }),
});
const bodyError = (status: number, error: string, description?: string) => Object.assign(new Error('server responded with an error in the response body'), {
  code: 'OAUTH_RESPONSE_BODY_ERROR', status, error, error_description: description,
});
const fetchFailed = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect'), { code }) });

describe('toSignInError', () => {
  it.each<[string, unknown, object]>([
    ['the provider refused (person cancelled)', authorizationError('access_denied', 'End-User aborted interaction'),
      { code: 'provider_error', providerError: 'access_denied', providerDescription: 'End-User aborted interaction', message: 'the identity provider refused the sign-in: access_denied (End-User aborted interaction)' }],
    ['the token endpoint refused the code', bodyError(400, 'invalid_grant', 'grant request is invalid'),
      { code: 'token_rejected', providerError: 'invalid_grant', message: 'doing it: the identity provider answered 400 invalid_grant (grant request is invalid)' }],
    ['connection refused', fetchFailed('ECONNREFUSED'), { code: 'provider_unreachable', message: 'doing it: the identity provider did not answer (connection refused)' }],
    ['a timeout', Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), { code: 'provider_unreachable', message: expect.stringContaining('timed out') }],
    ['a failed check of the library', Object.assign(new Error('unexpected "state" response parameter value'), { code: 'OAUTH_INVALID_RESPONSE' }),
      { code: 'invalid_callback', message: 'doing it: unexpected "state" response parameter value' }],
    ['a 401 from the token endpoint, the error in WWW-Authenticate', Object.assign(new Error('server responded with a challenge in the WWW-Authenticate HTTP Header'), {
      code: 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', status: 401, cause: [{ scheme: 'basic', parameters: { error: 'invalid_client', error_description: 'client authentication failed' } }],
    }), { code: 'token_rejected', providerError: 'invalid_client', message: 'doing it: the identity provider answered 401 invalid_client (client authentication failed)' }],
    ['a wrapped check, its own words from the cause', Object.assign(new Error('invalid response encountered'), {
      code: 'OAUTH_INVALID_RESPONSE', cause: Object.assign(new Error('unexpected "state" response parameter value'), { cause: { parameters: 'code=SECRET' } }),
    }), { code: 'invalid_callback', message: 'doing it: invalid response encountered: unexpected "state" response parameter value' }],
    ['something that is not an error', 'boom', { code: 'invalid_callback', message: 'doing it: unexpected failure' }],
  ])('%s', (_case, thrown, expected) => {
    const failure = toSignInError(thrown, 'token_rejected', 'invalid_callback', 'doing it');
    expect(isSignInError(failure)).toBe(true);
    expect(failure).toMatchObject(expected);
  });

  it('keeps nothing of the original error but its message: no cause, no code from the callback', () => {
    const failure = toSignInError(authorizationError('access_denied'), 'token_rejected', 'invalid_callback', 'x');
    expect(failure.cause).toBeUndefined();
    expect(JSON.stringify({ ...failure, message: failure.message })).not.toContain('SECRET-CODE');
  });

  it('escapes and bounds what the provider wrote', () => {
    const failure = toSignInError(authorizationError('access_denied\r\nX', 'd'.repeat(500)), 'token_rejected', 'invalid_callback', 'x');
    expect(failure.providerError).toBe('access_denied\\u000d\\u000aX');
    expect(failure.providerDescription).toHaveLength(203);
    expect(failure.message).not.toMatch(/[\r\n]/);
  });

  it('passes a SignInError through', () => {
    const original = new SignInError('attempt_expired', 'late');
    expect(toSignInError(original, 'token_rejected', 'invalid_callback', 'x')).toBe(original);
  });
});
