import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { compileScopes } from '../../../src/authz';
import type { RequestScope } from '../../../src/http';
import type { KeyResolver, Principal } from '../../../src/keys';
import { KeyStoreUnavailableError } from '../../../src/keys';
import { createLogger } from '../../../src/log';
import type { RateLimiter } from '../../../src/ratelimit';
import type { Exchange, Verdict } from '../../../src/pipeline/chain';
import { newExchange } from '../../../src/pipeline/chain';
import { createIdentitySteps } from '../../../src/pipeline/identity';

const principal = (userId: string, limited = false): Principal => ({
  userId, scopeList: [], effectiveScopes: [], scopes: compileScopes(['read/*']), keyId: `${userId}-id`,
  rateLimit: limited ? { rps: 1, burst: 1 } : null,
});
const KEYS: Record<string, Principal> = { good: principal('alice'), limited: principal('bob', true) };
const resolver = (down = false): KeyResolver => ({
  resolveHash: async () => null,
  resolve: async (key) => {
    if (down) throw new KeyStoreUnavailableError('ECONNREFUSED (connection refused)');
    return KEYS[key] ?? null;
  },
  evict: () => false, evictUser: () => 0, reset: () => undefined, size: 0,
});
const limiter: RateLimiter = { take: async () => ({ allowed: false, retryAfterS: 3, store: 'memory' }) };
const logger = createLogger({ level: 'error', format: 'json', env: 'test', stream: new PassThrough() });

function exchange(authorization?: string): Exchange<unknown> {
  const req = { headers: authorization === undefined ? {} : { authorization } } as unknown as IncomingMessage;
  const scope = { id: 'r1', client: '10.0.0.1', path: '/api/flows/x', principal: null, auditDecisions: [], startedAt: 0 } as RequestScope;
  return newExchange('rest', req, scope);
}

describe('identity steps: credential → principal → rate limit, the same for every way in', () => {
  it.each([
    // [case, Authorization header, allowPublic, store down, expected verdict or principal]
    ['no credential', undefined, false, false, { code: 'UNAUTHENTICATED', early: 'an API key is required' }],
    ['no credential, public access on', undefined, true, false, { principal: null }],
    ['a malformed credential', 'Bearer \u0001', true, false, { code: 'UNAUTHENTICATED', early: 'malformed API key', message: 'malformed API key' }],
    ['an unsupported scheme', 'Digest abc', true, false, { code: 'UNAUTHENTICATED', early: 'unsupported Authorization scheme: use Bearer <key>' }],
    ['an unknown key', 'Bearer nope', false, false, { code: 'UNAUTHENTICATED', early: 'invalid or expired API key', message: 'invalid or expired API key' }],
    ['a known key', 'Bearer good', false, false, { principal: 'alice' }],
    ['a key over its rate limit', 'Bearer limited', false, false, { code: 'TOO_MANY_REQUESTS', retryAfter: '3', limit: 'rate:1/1', principal: 'bob' }],
    ['any key while the store is down', 'Bearer good', false, true, { code: 'SERVICE_UNAVAILABLE', retryAfter: '5' }],
  ] as const)('%s', async (_case, authorization, allowPublic, down, expected) => {
    const steps = createIdentitySteps({ resolver: resolver(down), logger, rate: { limiter } });
    const x = exchange(authorization === 'Bearer \u0001' ? 'Bearer \u0001' : authorization);
    const verdict = steps.credential(allowPublic)(x) ?? await steps.principal(x) ?? await steps.rateLimit('rest')(x);
    const exp = expected as Record<string, unknown>;
    if (!('code' in exp)) {
      expect(verdict).toBeUndefined();
      expect(x.scope.principal?.userId ?? null).toBe(exp.principal);
      return;
    }
    expect(verdict?.kind).toBe('refuse');
    const refusal = verdict as Extract<Verdict, { kind: 'refuse' }>;
    expect(refusal.error.code).toBe(exp.code);
    if (exp.message) expect(refusal.error.message).toBe(exp.message);
    if (exp.retryAfter) expect(refusal.error.headers['Retry-After']).toBe(exp.retryAfter);
    if (exp.code === 'UNAUTHENTICATED') expect(refusal.error.headers['WWW-Authenticate']).toMatch(/^Bearer /);
    // The audit trail gets a short fixed reason, never a message that names a credential form or echoes the key.
    if (exp.early) expect(refusal.early).toEqual({ kind: 'unauthenticated', reason: exp.early });
    if (exp.limit) expect(refusal.early).toEqual({ kind: 'rate-limited', limit: exp.limit });
    if (exp.principal) expect(x.scope.principal?.userId).toBe(exp.principal);
    expect(JSON.stringify(refusal.early ?? {})).not.toContain('nope');
  });
});
