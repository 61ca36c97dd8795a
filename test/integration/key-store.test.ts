import { parseConfig } from '../../src/config';
import type { KeyStore } from '../../src/keys';
import { buildRoleTable } from '../../src/authz';
import { createKeyResolver, hashedKeyValue, KeyStoreUnavailableError } from '../../src/keys';
import { createDatabase, createKnexKeyStore } from '../../src/storage';
import type { DbKind, TestDatabase } from '../support/databases';
import { createTestDatabase, DB_KINDS, insertKey } from '../support/databases';

describe.each(DB_KINDS)('key store on %s', (kind: DbKind) => {
  let db: TestDatabase;
  let store: KeyStore;

  beforeAll(async () => {
    db = await createTestDatabase(kind, `key_store_${kind}`);
    await insertKey(db, { userId: 'plain', scopes: 'query/*', key: 'plain-key-1' });
    await insertKey(db, { userId: 'hashed', scopes: 'query/*,\n mutation/create_flow_run', key: 'hashed-key-2', hashed: true });
    await insertKey(db, { userId: 'expired', scopes: '*', key: 'expired-key-3', expiresInSeconds: -5 });
    await insertKey(db, { userId: 'soon', scopes: '*', key: 'soon-key-4', expiresInSeconds: 2 });
    await insertKey(db, { userId: 'dup-a', scopes: '*', key: 'dup-key-5' });
    await insertKey(db, { userId: 'dup-b', scopes: 'query/*', key: 'dup-key-5', hashed: true });
    const { config } = parseConfig(db.env);
    store = createKnexKeyStore(createDatabase(config.db), config.db.type, config.db.timeoutMs);
  });

  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it.each([
    ['plain-key-1', 'plain'],
    ['hashed-key-2', 'hashed'],
  ])('finds %s by value or by hash', async (key, user) => {
    const rows = await store.findValidKeys([key, hashedKeyValue(key)]);
    expect(rows.map((r) => r.userId)).toEqual([user]);
    expect(rows[0]!.secondsLeft).toBeGreaterThan(80000);
  });

  it('does not return expired keys', async () => {
    expect(await store.findValidKeys(['expired-key-3', hashedKeyValue('expired-key-3')])).toEqual([]);
  });

  it('returns the seconds left as the database counts them', async () => {
    const [row] = await store.findValidKeys(['soon-key-4']);
    expect(row!.secondsLeft).toBeGreaterThan(0);
    expect(row!.secondsLeft).toBeLessThanOrEqual(2);
  });

  describe('through the resolver', () => {
    const warnings: string[] = [];
    const resolver = () => createKeyResolver(store, { ttlMs: 60_000, negativeTtlMs: 60_000, max: 100, roles: buildRoleTable(), defaultRateLimit: null, warn: (m) => warnings.push(m) });

    it('compiles scopes separated by commas and whitespace', async () => {
      const principal = await resolver().resolve('hashed-key-2');
      expect(principal?.scopeList).toEqual(['query/*', 'mutation/create_flow_run']);
    });

    it('compiles a scopes value once for every key that has it, keeping each key\'s own identity', async () => {
      const r = resolver();
      const plain = await r.resolve('plain-key-1');
      await insertKey(db, { userId: `same-scopes-${db.kind}`, scopes: 'query/*', key: 'same-scopes-key-6', hashed: true });
      const other = await r.resolve('same-scopes-key-6');
      expect(other?.userId).toBe(`same-scopes-${db.kind}`);
      expect(other?.keyId).not.toBe(plain?.keyId);
      expect(other?.scopes).toBe(plain?.scopes);
    });

    it('refuses a key that two users share', async () => {
      expect(await resolver().resolve('dup-key-5')).toBeNull();
      expect(warnings.join()).toContain('several users');
    });

    it('stops honouring a cached key when it expires', async () => {
      const r = resolver();
      expect(await r.resolve('soon-key-4')).not.toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect(await r.resolve('soon-key-4')).toBeNull();
    });
  });
});

describe('key store that cannot be reached', () => {
  it.each(['postgres', 'mysql'] as const)('%s: fails with KeyStoreUnavailableError, not a crash', async (type) => {
    const { config } = parseConfig({ DB_TYPE: type, DB_HOST: '127.0.0.1', DB_PORT: '9', DB_USER: 'x', DB_PASSWORD: 'hunter2', DB_TIMEOUT: '2' });
    const store = createKnexKeyStore(createDatabase(config.db), type, 2000);
    const failure = await store.findValidKeys(['k']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(KeyStoreUnavailableError);
    expect(String((failure as Error).message)).not.toContain('hunter2');
    await store.close();
  });
});
