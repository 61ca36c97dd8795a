import { PassThrough } from 'node:stream';
import type { AuthFailure } from '../../../src/audit';
import { compileScopes } from '../../../src/authz';
import { createIdentifier } from '../../../src/http';
import type { Credential, KeyResolver, Principal } from '../../../src/keys';
import { KeyStoreUnavailableError } from '../../../src/keys';
import { createLogger } from '../../../src/log';
import type { RateLimiter } from '../../../src/ratelimit';

const principal = (userId: string, limited = false): Principal => ({
  userId, scopeList: [], effectiveScopes: [], scopes: compileScopes(['read/*']), keyId: `${userId}-id`,
  rateLimit: limited ? { rps: 1, burst: 1 } : null,
});
const KEYS: Record<string, Principal> = { good: principal('alice'), limited: principal('bob', true) };
const resolver = (down = false): KeyResolver => ({
  resolve: async (key) => {
    if (down) throw new KeyStoreUnavailableError('ECONNREFUSED (connection refused)');
    return KEYS[key] ?? null;
  },
  evict: () => false, evictUser: () => 0, reset: () => undefined, size: 0,
});
const limiter: RateLimiter = { take: async () => ({ allowed: false, retryAfterS: 3, store: 'memory' }) };
const asker = { requestId: 'r1', client: '10.0.0.1', route: '/flows/{id:uuid}', dialect: 'rest' as const, metricsDialect: 'rest' as const };
const logger = createLogger({ level: 'error', format: 'json', env: 'test', stream: new PassThrough() });

const key = (k: string): Credential => ({ kind: 'key', key: k, source: 'bearer' });

describe('identify: credential → principal → rate limit, the same for every way in', () => {
  it.each([
    // [case, credential, allowPublic, store down, expected outcome, failure recorded]
    ['no credential', { kind: 'none' }, false, false, { code: 'UNAUTHENTICATED', presented: false }, true],
    ['no credential, public access on', { kind: 'none' }, true, false, { principal: null }, false],
    ['a malformed credential', { kind: 'invalid', reason: 'malformed API key' }, true, false, { code: 'UNAUTHENTICATED', presented: true, message: 'malformed API key' }, true],
    ['an unknown key', key('nope'), false, false, { code: 'UNAUTHENTICATED', presented: true, message: 'invalid or expired API key' }, true],
    ['a known key', key('good'), false, false, { principal: 'alice' }, false],
    ['a key over its rate limit', key('limited'), false, false, { code: 'TOO_MANY_REQUESTS', retryAfterS: 3, limit: 'rate:1/1', principal: 'bob' }, false],
    ['any key while the store is down', key('good'), false, true, { code: 'SERVICE_UNAVAILABLE', retryAfterS: 5 }, false],
  ] as const)('%s', async (_case, credential, allowPublic, down, expected, recorded) => {
    const failures: AuthFailure[] = [];
    const identify = createIdentifier({
      resolver: resolver(down), logger, allowPublic, rate: { limiter }, failures: { record: (f) => failures.push(f), stop: () => undefined },
    });
    const result = await identify(credential as Credential, asker);
    if ('principal' in expected && !('code' in expected)) {
      expect(result).toEqual({ ok: true, principal: expected.principal === null ? null : KEYS.good });
    } else {
      expect(result.ok).toBe(false);
      const refusal = (result as unknown as { refusal: Record<string, unknown> }).refusal;
      const { principal: who, ...rest } = expected as Record<string, unknown>;
      expect(refusal).toMatchObject(rest);
      if (who) expect((refusal.principal as Principal).userId).toBe(who);
    }
    expect(failures).toHaveLength(recorded ? 1 : 0);
    if (recorded) expect(failures[0]).toMatchObject({ requestId: 'r1', client: '10.0.0.1', route: '/flows/{id:uuid}' });
    // The audit trail gets a short fixed reason, never a message that names a credential form.
    if (recorded) expect(failures[0]?.reason).toMatch(/^(an API key is required|malformed API key|invalid or expired API key)$/);
    expect(JSON.stringify(failures)).not.toContain('nope');
  });
});
