import type { Knex } from 'knex';
import type { DbConfig } from '../../../src/config';
import { parseConfig } from '../../../src/config';
import { KeyStoreUnavailableError } from '../../../src/keys';
import type { NewSession, SessionStore } from '../../../src/sessions';
import { deriveTokenKey, generateSessionId, hashSessionId, SessionInputError, SessionStoreUnavailableError } from '../../../src/sessions';
import type { SessionStoreOptions } from '../../../src/storage';
import { createDatabase, createKnexSessionStore, migrateLatest, migrationStatus, MIGRATIONS_TABLE, SESSIONS_TABLE } from '../../../src/storage';
import type { DbKind, TestDatabase } from '../../support/databases';
import { createTestDatabase, DB_KINDS, insertKey } from '../../support/databases';
import { closedPort } from '../../support/ports';

const MIN = 60_000;
const IDLE = 20 * MIN;
const TOUCH = MIN;
const TOKEN_KEY = deriveTokenKey('session store test secret');
const REFRESH = 'refresh-token-in-clear-0001';
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.id-token-in-clear.sig';
const KEY_HASH = 'a'.repeat(64);
const OTHER_KEY_HASH = 'b'.repeat(64);

const oidc = (over: Partial<NewSession> = {}): NewSession => ({
  kind: 'oidc', userId: 'alice@example.com', displayName: 'Zoë Ünal 山田', email: 'alice@example.com', subject: 'sub-alice',
  issuer: 'https://idp.example/realms/x', groups: ['eng', 'data-team'], roles: ['viewer'], lifetimeMs: 60 * MIN, ...over,
});
const keySession = (keyHash: string, userId = 'robot'): NewSession => ({ kind: 'key', userId, groups: [], roles: ['query/*'], keyHash, lifetimeMs: 60 * MIN });

/** Rows of the table exactly as stored, every column. */
async function rawRows(knex: Knex): Promise<Array<Record<string, unknown>>> {
  return knex(SESSIONS_TABLE).select('*');
}

async function rawRow(knex: Knex, hash: string): Promise<Record<string, unknown>> {
  const [row] = await knex(SESSIONS_TABLE).select('*').where('id_hash', hash);
  if (!row) throw new Error('no such row');
  return row as Record<string, unknown>;
}

/** Counts statements Knex sends while `run` runs. */
async function countStatements<T>(knex: Knex, run: () => Promise<T>): Promise<{ result: T; statements: number }> {
  let statements = 0;
  const count = () => statements++;
  knex.on('query', count);
  try {
    const result = await run();
    return { result, statements };
  } finally {
    knex.off('query', count);
  }
}

describe.each(DB_KINDS)('session store on %s', (kind: DbKind) => {
  let db: TestDatabase;
  let dbConfig: DbConfig;
  let knex: Knex;
  let now = Date.now();
  let store: SessionStore;
  const open = (options: Partial<SessionStoreOptions> = {}) => createKnexSessionStore(knex, dbConfig.type, {
    idleTimeoutMs: IDLE, touchIntervalMs: TOUCH, timeoutMs: dbConfig.timeoutMs, tokenKey: TOKEN_KEY, now: () => now, ...options,
  });

  beforeAll(async () => {
    db = await createTestDatabase(kind, `sessions_${kind}`);
    dbConfig = parseConfig(db.env).config.db;
    knex = createDatabase(dbConfig);
    await migrateLatest(knex, dbConfig.type);
    store = open();
  });

  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  it('creates a session and finds it by its raw id, with every field as given', async () => {
    const created = await store.create(oidc({ refreshToken: REFRESH, idTokenHint: ID_TOKEN }));
    expect(created.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.record.hash).toBe(hashSessionId(created.id));
    const found = await store.find(created.id);
    expect(found).toEqual(created.record);
    expect(found).toMatchObject({
      kind: 'oidc', userId: 'alice@example.com', displayName: 'Zoë Ünal 山田', subject: 'sub-alice', issuer: 'https://idp.example/realms/x',
      groups: ['eng', 'data-team'], roles: ['viewer'], keyHash: null, hasRefreshToken: true,
      createdAt: now, lastSeenAt: now, expiresAt: now + 60 * MIN, groupsCheckedAt: now, endedAt: null, endReason: null,
    });
  });

  it('stores neither the raw id nor a token in clear, in any column', async () => {
    const created = await store.create(oidc({ userId: 'raw-check', refreshToken: REFRESH, idTokenHint: ID_TOKEN }));
    const everything = JSON.stringify(await rawRows(knex));
    expect(everything).not.toContain(created.id);
    expect(everything).not.toContain(REFRESH);
    expect(everything).not.toContain('id-token-in-clear');
    const row = await rawRow(knex, created.record.hash);
    expect(row.refresh_token).toMatch(/^v1\./);
    expect(row.id_token_hint).toMatch(/^v1\./);
    expect(Object.values(row).map(String)).not.toContain(created.id);
    expect(await store.readTokens(created.record.hash)).toEqual({ refreshToken: REFRESH, idTokenHint: ID_TOKEN });
  });

  it.each([
    ['an id never issued', () => generateSessionId()],
    ['the hash instead of the id', () => hashSessionId(generateSessionId())],
    ['a malformed id', () => 'not a session id'],
    ['an empty id', () => ''],
  ])('finds nothing for %s', async (_name, id) => {
    expect(await store.find(id())).toBeNull();
    expect(await store.lookup(id())).toEqual({ state: 'unknown' });
  });

  it('ends a session at its absolute expiry, however active it is', async () => {
    const start = now;
    const { id, record } = await store.create(oidc({ lifetimeMs: 5 * MIN }));
    for (let i = 1; i <= 4; i++) {
      now = start + i * MIN + 1;
      expect(await store.find(id)).not.toBeNull();
      await store.touch(record.hash);
    }
    now = start + 5 * MIN - 1;
    expect(await store.find(id)).not.toBeNull();
    now = start + 5 * MIN;
    expect(await store.find(id)).toBeNull();
    expect(await store.lookup(id)).toMatchObject({ state: 'expired' });
  });

  it('ends a session left idle for the idle timeout; activity keeps it', async () => {
    const start = now;
    const idle = await store.create(oidc());
    const active = await store.create(oidc());
    now = start + 15 * MIN;
    expect(await store.touch(active.record.hash)).toBe(true);
    now = start + IDLE - 1;
    expect(await store.find(idle.id)).not.toBeNull();
    now = start + IDLE;
    expect(await store.lookup(idle.id)).toMatchObject({ state: 'idle' });
    expect(await store.find(active.id)).not.toBeNull();
    // A late touch does not bring the idle one back.
    expect(await store.touch(idle.record.hash)).toBe(false);
    expect(await store.find(idle.id)).toBeNull();
  });

  it('writes last_seen_at at most once per touch interval, across instances too', async () => {
    const start = now;
    const { record } = await store.create(oidc());
    const lastSeen = async () => (await knex(SESSIONS_TABLE).first('last_seen_at').where('id_hash', record.hash))!.last_seen_at;
    const created = await lastSeen();

    now = start + 10_000;
    const early = await countStatements(knex, () => store.touch(record.hash));
    expect(early).toEqual({ result: false, statements: 0 });
    expect(await lastSeen()).toEqual(created);

    now = start + TOUCH + 1000;
    expect(await countStatements(knex, () => store.touch(record.hash))).toEqual({ result: true, statements: 1 });
    const written = await lastSeen();
    expect(written).not.toEqual(created);

    // Another instance (its own memory) a second later: one statement, no row rewritten.
    now = start + TOUCH + 2000;
    const other = open();
    expect(await countStatements(knex, () => other.touch(record.hash))).toEqual({ result: false, statements: 1 });
    expect(await lastSeen()).toEqual(written);
    // And then it remembers: no statement at all.
    expect(await countStatements(knex, () => other.touch(record.hash))).toEqual({ result: false, statements: 0 });
  });

  it('lets a lookup spare the next touch when another instance wrote recently', async () => {
    const start = now;
    const { id, record } = await store.create(oidc());
    const other = open();
    now = start + 2 * TOUCH;
    expect(await store.touch(record.hash)).toBe(true);
    now += 1000;
    expect(await other.find(id)).toMatchObject({ lastSeenAt: start + 2 * TOUCH });
    expect(await countStatements(knex, () => other.touch(record.hash))).toEqual({ result: false, statements: 0 });
  });

  it('ends one session, once, with its reason', async () => {
    const { id, record } = await store.create(oidc());
    expect(await store.end(record.hash, 'logout')).toBe(true);
    expect(await store.find(id)).toBeNull();
    expect(await store.lookup(id)).toMatchObject({ state: 'ended', record: { endedAt: now, endReason: 'logout' } });
    expect(await store.end(record.hash, 'revoked')).toBe(false);
    expect((await rawRow(knex, record.hash)).end_reason).toBe('logout');
    expect(await store.touch(record.hash)).toBe(false);
    expect(await store.readTokens(record.hash)).toBeNull();
    expect(await store.updateGroups(record.hash, { groups: [], roles: [] })).toBe(false);
  });

  it('ends every live session of a user, and only theirs, comparing the user id exactly', async () => {
    const a = await store.create(oidc({ userId: 'bob@example.com' }));
    const b = await store.create(keySession(OTHER_KEY_HASH, 'bob@example.com'));
    const over = await store.create(oidc({ userId: 'bob@example.com' }));
    await store.end(over.record.hash, 'logout');
    const carol = await store.create(oidc({ userId: 'carol@example.com' }));
    expect(await store.endForUser('BOB@example.com', 'revoked')).toEqual([]);
    expect((await store.endForUser('bob@example.com', 'group-removed')).sort()).toEqual([a.record.hash, b.record.hash].sort());
    expect(await store.find(a.id)).toBeNull();
    expect(await store.find(b.id)).toBeNull();
    expect(await store.lookup(a.id)).toMatchObject({ record: { endReason: 'group-removed' } });
    expect(await store.lookup(over.id)).toMatchObject({ record: { endReason: 'logout' } });
    expect(await store.find(carol.id)).not.toBeNull();
    expect(await store.endForUser('bob@example.com', 'revoked')).toEqual([]);
  });

  it('ends the sessions started with a key when the key is revoked', async () => {
    const one = await store.create(keySession(KEY_HASH));
    const two = await store.create(keySession(KEY_HASH, 'robot-2'));
    const other = await store.create(keySession(OTHER_KEY_HASH, 'robot-3'));
    expect(one.record).toMatchObject({ kind: 'key', keyHash: KEY_HASH, roles: ['query/*'], issuer: null });
    expect((await store.endForKey(KEY_HASH, 'revoked')).sort()).toEqual([one.record.hash, two.record.hash].sort());
    expect(await store.find(one.id)).toBeNull();
    expect(await store.find(two.id)).toBeNull();
    expect(await store.find(other.id)).not.toBeNull();
    await expect(store.endForKey(`sha256:${KEY_HASH}`, 'revoked')).rejects.toBeInstanceOf(SessionInputError);
  });

  it('updates groups and roles, and a rotated refresh token', async () => {
    const start = now;
    const { id, record } = await store.create(oidc({ refreshToken: REFRESH }));
    now = start + 5 * MIN;
    expect(await store.updateGroups(record.hash, { groups: ['ops'], roles: ['operator', 'viewer'], refreshToken: 'rotated-refresh-0002' })).toBe(true);
    expect(await store.find(id)).toMatchObject({ groups: ['ops'], roles: ['operator', 'viewer'], groupsCheckedAt: start + 5 * MIN, createdAt: start });
    expect(await store.readTokens(record.hash)).toEqual({ refreshToken: 'rotated-refresh-0002', idTokenHint: null });
    expect(await store.updateGroups(record.hash, { groups: [], roles: [] })).toBe(true);
    expect(await store.readTokens(record.hash)).toMatchObject({ refreshToken: 'rotated-refresh-0002' });
    expect(JSON.stringify(await rawRow(knex, record.hash))).not.toContain('rotated-refresh-0002');
  });

  it('keeps tokens only sealed: refuses them without a token key, cannot open them with another', async () => {
    const keyless = open({ tokenKey: undefined });
    await expect(keyless.create(oidc({ refreshToken: REFRESH }))).rejects.toBeInstanceOf(SessionInputError);
    const plain = await keyless.create(oidc());
    expect(await keyless.readTokens(plain.record.hash)).toEqual({ refreshToken: null, idTokenHint: null });
    const sealed = await store.create(oidc({ refreshToken: REFRESH, idTokenHint: ID_TOKEN }));
    const otherKey = open({ tokenKey: deriveTokenKey('another secret') });
    expect(await otherKey.readTokens(sealed.record.hash)).toEqual({ refreshToken: null, idTokenHint: null });
  });

  it('deletes sessions that stopped being live before the cut-off, and no others', async () => {
    await knex(SESSIONS_TABLE).delete();
    const start = now;
    const ended = await store.create(oidc());
    await store.end(ended.record.hash, 'logout');
    const expired = await store.create(oidc({ lifetimeMs: 10 * MIN }));
    const idle = await store.create(oidc({ lifetimeMs: 120 * MIN }));
    now = start + 30 * MIN;
    const live = await store.create(oidc({ lifetimeMs: 120 * MIN }));
    const endedLate = await store.create(oidc());
    await store.end(endedLate.record.hash, 'logout');
    now = start + 60 * MIN;
    // Cut-off at +25 min: ended at 0, expired at 10, idle since 0 + 20 go; the rest stay.
    expect(await store.purgeExpired(start + 25 * MIN)).toBe(3);
    const left = (await rawRows(knex)).map((r) => String(r.id_hash)).sort();
    expect(left).toEqual([live.record.hash, endedLate.record.hash].sort());
    expect([ended, expired, idle].map((s) => s.record.hash).some((h) => left.includes(h))).toBe(false);
  });

  it('answers a ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('gives up on a locked row within its time limit, with the typed error', async () => {
    const { record } = await store.create(oidc());
    const patient = open({ timeoutMs: 500 });
    const trx = await db.knex.transaction();
    try {
      await trx(SESSIONS_TABLE).where('id_hash', record.hash).update({ end_reason: null });
      const failure = await patient.end(record.hash, 'logout').catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SessionStoreUnavailableError);
      // SQLite's driver waits for the lock itself (busy timeout) and then reports it.
      expect((failure as SessionStoreUnavailableError).reason).toMatch(kind === 'sqlite' ? /timed out|SQLITE_BUSY/ : /timed out/);
    } finally {
      await trx.rollback();
    }
    expect(await store.find(generateSessionId())).toBeNull();
  }, 20_000);
});

describe.each(DB_KINDS)('session table migration on %s', (kind: DbKind) => {
  let db: TestDatabase;
  let dbConfig: DbConfig;
  let knex: Knex;

  beforeAll(async () => {
    db = await createTestDatabase(kind, `sessions_up_${kind}`);
    dbConfig = parseConfig(db.env).config.db;
    knex = createDatabase(dbConfig);
  });

  afterAll(async () => {
    await knex.destroy();
    await db.drop();
  });

  it('is added to a database that has the older migrations and data, keeping both', async () => {
    // The database as the previous release left it: keys, audit and change tables, no sessions.
    await migrateLatest(knex, dbConfig.type);
    await knex.schema.dropTable(SESSIONS_TABLE);
    await knex.schema.dropTable('prefect_auth_proxy_people');
    await knex(MIGRATIONS_TABLE).whereIn('name', ['004_prefect_auth_proxy_sessions', '006_people_and_own_keys', '007_key_last_used']).delete();
    await insertKey(db, { userId: 'kept', scopes: 'query/*', key: 'kept-key-1', hashed: true });
    const store = createKnexSessionStore(knex, dbConfig.type, { idleTimeoutMs: IDLE, touchIntervalMs: TOUCH, timeoutMs: dbConfig.timeoutMs });

    const missing = await store.ping().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SessionStoreUnavailableError);
    expect((missing as SessionStoreUnavailableError).reason).toMatch(/^(42P01|ER_NO_SUCH_TABLE|SQLITE_ERROR) \((table missing|no such table)\)$/);
    expect(await migrationStatus(knex, dbConfig.type)).toEqual({
      applied: ['001_prefect_api_keys', '002_prefect_audit_log', '003_prefect_auth_proxy_changes'],
      pending: ['004_prefect_auth_proxy_sessions', '006_people_and_own_keys', '007_key_last_used'],
    });

    // 006 and 007 find their columns on the key table already there (a half-applied upgrade) and goes on.
    expect(await migrateLatest(knex, dbConfig.type)).toEqual(['004_prefect_auth_proxy_sessions', '006_people_and_own_keys', '007_key_last_used']);
    expect(await migrateLatest(knex, dbConfig.type)).toEqual([]);
    expect(await knex('prefect_api_keys').pluck('user_id')).toEqual(['kept']);
    await store.ping();
    const { id } = await store.create(oidc());
    expect(await store.find(id)).toMatchObject({ userId: 'alice@example.com', displayName: 'Zoë Ünal 山田' });
  });
});

describe.each(DB_KINDS)('session store on %s with its pool closed', (kind: DbKind) => {
  it('fails with the typed unavailable error, not a crash', async () => {
    const db = await createTestDatabase(kind, `sessions_closed_${kind}`);
    try {
      const dbConfig = parseConfig(db.env).config.db;
      const knex = createDatabase(dbConfig);
      await migrateLatest(knex, dbConfig.type);
      let now = Date.now();
      const store = createKnexSessionStore(knex, dbConfig.type, { idleTimeoutMs: IDLE, touchIntervalMs: TOUCH, timeoutMs: dbConfig.timeoutMs, now: () => now });
      const { id, record } = await store.create(oidc());
      await knex.destroy();
      // Past the touch interval, so the touch goes to the database.
      now += 2 * TOUCH;
      for (const call of [() => store.find(id), () => store.touch(record.hash), () => store.end(record.hash, 'logout'), () => store.create(oidc()), () => store.ping()]) {
        const failure = await call().catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(SessionStoreUnavailableError);
        expect(failure).toBeInstanceOf(KeyStoreUnavailableError);
        expect(String((failure as Error).message)).not.toContain(id);
      }
    } finally {
      await db.drop();
    }
  });
});

describe('session store that cannot be reached', () => {
  it.each(['postgres', 'mysql'] as const)('%s: fails with the typed unavailable error, saying why without the password', async (type) => {
    const port = await closedPort();
    const { config } = parseConfig({ DB_TYPE: type, DB_HOST: '127.0.0.1', DB_PORT: String(port), DB_USER: 'x', DB_PASSWORD: 'hunter2', DB_TIMEOUT: '2' });
    const knex = createDatabase(config.db);
    const store = createKnexSessionStore(knex, type, { idleTimeoutMs: IDLE, touchIntervalMs: TOUCH, timeoutMs: 2000 });
    try {
      const id = generateSessionId();
      for (const call of [() => store.find(id), () => store.create(oidc()), () => store.endForUser('alice@example.com', 'revoked'), () => store.purgeExpired(Date.now())]) {
        const failure = await call().catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(SessionStoreUnavailableError);
        expect((failure as SessionStoreUnavailableError).reason).toMatch(/ECONNREFUSED/);
        expect(String((failure as Error).message)).not.toMatch(/hunter2|select|insert|update|delete/i);
      }
    } finally {
      await knex.destroy();
    }
  });
});
