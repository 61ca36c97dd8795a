import { buildRoleTable } from '../../../src/authz';
import type { KeyRecord, KeyResolverOptions, KeyStore } from '../../../src/keys';
import { createKeyResolver, hashedKeyValue, KeyStoreUnavailableError } from '../../../src/keys';

/** A key store in memory that can be switched off, counting its lookups. */
function fakeStore(keys: Record<string, KeyRecord>) {
  const state = { down: false, lookups: 0 };
  const store: KeyStore = {
    async findValidKeys(candidates) {
      state.lookups++;
      if (state.down) throw new KeyStoreUnavailableError('ECONNREFUSED (connection refused)');
      return candidates.flatMap((c) => (keys[c] ? [keys[c]] : []));
    },
    ping: async () => undefined,
    close: async () => undefined,
  };
  return { store, state };
}

const VALID = 'valid-key-1';
const options = (overrides: Partial<KeyResolverOptions> = {}): KeyResolverOptions => ({
  ttlMs: 60_000, negativeTtlMs: 60_000, max: 100, roles: buildRoleTable(), defaultRateLimit: null, warn: () => undefined, ...overrides,
});

describe('key resolver cache', () => {
  it.each([
    ['the same bound as valid keys', {}],
    ['a smaller bound of their own', { negativeMax: 10 }],
    ['a larger bound of their own', { negativeMax: 5000 }],
  ])('keeps a valid key cached through a flood of unknown keys (%s)', async (_name, bounds) => {
    const { store, state } = fakeStore({ [hashedKeyValue(VALID)]: { userId: 'alice', scopes: 'read/*', secondsLeft: 3600 } });
    const resolver = createKeyResolver(store, options(bounds));
    expect((await resolver.resolve(VALID))?.userId).toBe('alice');
    for (let i = 0; i < 100 + 1000; i++) expect(await resolver.resolve(`made-up-${i}`)).toBeNull();
    state.down = true;
    const lookups = state.lookups;
    expect((await resolver.resolve(VALID))?.userId).toBe('alice');
    expect(state.lookups).toBe(lookups);
  });

  it('bounds unknown keys on their own: the oldest are looked up again', async () => {
    const { store, state } = fakeStore({});
    const resolver = createKeyResolver(store, options({ negativeMax: 10 }));
    for (let i = 0; i < 11; i++) await resolver.resolve(`made-up-${i}`);
    const lookups = state.lookups;
    await resolver.resolve('made-up-10');
    expect(state.lookups).toBe(lookups);
    await resolver.resolve('made-up-0');
    expect(state.lookups).toBe(lookups + 1);
  });

  it.each([
    ['evict by key', (r: ReturnType<typeof createKeyResolver>) => expect(r.evict('made-up')).toBe(true)],
    ['evict by hash', (r: ReturnType<typeof createKeyResolver>) => expect(r.evict(hashedKeyValue('made-up'))).toBe(true)],
    ['reset', (r: ReturnType<typeof createKeyResolver>) => r.reset()],
  ])('forgets an unknown key on %s, so a key just created works at once', async (_name, forget) => {
    const keys: Record<string, KeyRecord> = {};
    const { store } = fakeStore(keys);
    const resolver = createKeyResolver(store, options());
    expect(await resolver.resolve('made-up')).toBeNull();
    expect(resolver.size).toBe(1);
    keys['made-up'] = { userId: 'bob', scopes: 'read/*', secondsLeft: 3600 };
    expect(await resolver.resolve('made-up')).toBeNull();
    forget(resolver);
    expect(resolver.size).toBe(0);
    expect((await resolver.resolve('made-up'))?.userId).toBe('bob');
  });

  it('does not remember unknown keys when KEY_CACHE_NEGATIVE_TTL is 0', async () => {
    const { store, state } = fakeStore({});
    const resolver = createKeyResolver(store, options({ negativeTtlMs: 0 }));
    await resolver.resolve('made-up');
    await resolver.resolve('made-up');
    expect(state.lookups).toBe(2);
    expect(resolver.size).toBe(0);
  });
});
