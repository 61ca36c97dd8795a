import { OwnKeyError } from '../../../src/selfservice';
import { createOwnKeyStore, migrateLatest } from '../../../src/storage';
import type { TestDatabase } from '../../support/databases';
import { createTestDatabase, DB_KINDS } from '../../support/databases';

describe.each(DB_KINDS)('own keys and disabled people on %s', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind, 'own_keys');
    await migrateLatest(db.knex, kind);
  });
  afterAll(async () => db?.drop());

  it('adds its columns to the original table once, and the original columns still take a plain insert', async () => {
    const { peopleAndOwnKeys } = await import('../../../src/storage/people-schema');
    await peopleAndOwnKeys.up(db.knex, kind);
    const columns = await db.knex('prefect_api_keys').columnInfo();
    expect(Object.keys(columns)).toEqual(expect.arrayContaining(['owner_id', 'key_name', 'self_service']));
    await db.knex('prefect_api_keys').insert({
      user_id: 'legacy', scopes: 'query/*', api_key: 'sha256:' + 'c'.repeat(64), key_issu_dt: new Date(), key_expr_dt: new Date(Date.now() + 86400_000),
      creatd_dt: new Date(), last_updatd_dt: new Date(), creatd_by: 'sql', last_updatd_by: 'sql',
    });
    expect(Boolean((await db.knex('prefect_api_keys').where({ user_id: 'legacy' }).first()).self_service)).toBe(false);
  });

  it('creates, lists, revokes and stops a person\'s keys, and only theirs', async () => {
    const store = createOwnKeyStore(db.knex, kind);
    const a = await store.create({ owner: 'ana@example.com', name: 'laptop', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 2 });
    expect(a.key).toMatch(/^pap_/);
    expect(a.info).toMatchObject({ name: 'laptop', user: 'ana@example.com/laptop', scopes: 'role:viewer', active: true, lastUsed: null });
    await store.create({ owner: 'ana@example.com', name: 'ci', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 2 });
    await expect(store.create({ owner: 'ana@example.com', name: 'third', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 2 })).rejects.toMatchObject({ code: 'LIMIT' });
    await expect(store.create({ owner: 'ana@example.com', name: 'ci', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 5 })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(store.create({ owner: 'ana@example.com', name: '../x', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 5 })).rejects.toBeInstanceOf(OwnKeyError);
    await store.create({ owner: 'bo@example.com', name: 'laptop', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 2 });
    expect((await store.list('ana@example.com')).map((k) => k.name).sort()).toEqual(['ci', 'laptop']);
    await expect(store.revoke('bo@example.com', 'ci')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.revoke('ana@example.com', 'ci')).toMatchObject({ active: false });
    expect(await store.stopAll('ana@example.com')).toEqual(['ana@example.com/laptop']);
    expect((await store.list('ana@example.com')).every((k) => !k.active)).toBe(true);
    expect((await store.list('bo@example.com'))[0]?.active).toBe(true);
    // Every change is in the change table, so every proxy forgets the keys.
    const changes = await db.knex('prefect_auth_proxy_changes').where({ kind: 'user' }).select('subject');
    expect(changes.map((c) => c.subject)).toEqual(expect.arrayContaining(['ana@example.com/ci', 'ana@example.com/laptop']));
  });

  it('refuses, with the reason, a name the original table cannot store', async () => {
    const store = createOwnKeyStore(db.knex, kind);
    const made = store.create({ owner: '山田@example.jp', name: 'laptop', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 2 });
    if (kind === 'mysql') {
      await expect(made).rejects.toMatchObject({ code: 'INVALID', message: expect.stringContaining('latin1') });
      // Listing, revoking and stopping find nothing rather than failing.
      expect(await store.list('山田@example.jp')).toEqual([]);
      await expect(store.revoke('山田@example.jp', 'laptop')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await store.stopAll('山田@example.jp')).toEqual([]);
      expect(await store.setDisabled('山田@example.jp', true, { by: 'admin' })).toEqual({ stoppedKeys: [] });
      expect(await store.isDisabled('山田@example.jp')).toBe(true);
    } else {
      expect((await made).info.user).toBe('山田@example.jp/laptop');
    }
  });

  it('disables a person: their live keys stop, they cannot make more, and enabling does not revive the old ones', async () => {
    const store = createOwnKeyStore(db.knex, kind);
    await store.create({ owner: 'cy@example.com', name: 'one', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 5 });
    expect(await store.setDisabled('cy@example.com', true, { by: 'admin', reason: 'left' })).toEqual({ stoppedKeys: ['cy@example.com/one'] });
    expect(await store.isDisabled('cy@example.com')).toBe(true);
    await expect(store.create({ owner: 'cy@example.com', name: 'two', scopes: 'role:viewer', lifetimeS: 3600, maxKeys: 5 })).rejects.toThrow('disabled');
    await store.setDisabled('cy@example.com', false, { by: 'admin' });
    expect(await store.isDisabled('cy@example.com')).toBe(false);
    expect((await store.list('cy@example.com'))[0]?.active).toBe(false);
  });
});
