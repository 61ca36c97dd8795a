import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';
import type { DbType } from '../config';
import type { SessionEndReason, SessionLookup, SessionRecord, SessionStore } from '../sessions';
import {
  checkLists, checkNewSession, generateSessionId, hashSessionId, isSessionHash, isSessionId, openToken, parseList, sealToken,
  SESSION_END_REASONS, SESSION_KINDS, SessionInputError, sessionState, SessionStoreUnavailableError,
} from '../sessions';
import { toDbTimestamp } from './audit-sink';
import { describeDbError } from './db-error';
import { SESSIONS_TABLE } from './sessions-schema';

export interface SessionStoreOptions {
  /** A session unused this long is over (checked on every lookup). */
  readonly idleTimeoutMs: number;
  /** `last_seen_at` is written at most this often per session; must be under half the idle timeout. */
  readonly touchIntervalMs: number;
  /** Every statement's limit, as the key store's (`DB_TIMEOUT`). */
  readonly timeoutMs: number;
  /** 32 bytes sealing refresh and ID tokens; without it the store refuses to keep tokens. */
  readonly tokenKey?: Buffer;
  /** The store's one clock, epoch ms; tests move it. */
  readonly now?: () => number;
  /** Sessions whose last write this instance remembers (bounded; a forgotten one costs one conditional update). */
  readonly touchMemory?: number;
}

/** Everything a record needs; the tokens are left in the table until `readTokens` asks. */
const RECORD_COLUMNS = [
  'id_hash', 'kind', 'user_id', 'display_name', 'email', 'subject', 'issuer', 'groups_json', 'roles_json', 'key_hash',
  'created_at', 'last_seen_at', 'expires_at', 'groups_checked_at', 'ended_at', 'end_reason',
];
/** Rows per statement when ending many sessions at once (SQLite and drivers limit bindings). */
const CHUNK = 500;

type Row = Record<string, unknown>;

export function createKnexSessionStore(db: Knex, type: DbType, options: SessionStoreOptions): SessionStore {
  const { idleTimeoutMs, touchIntervalMs, timeoutMs, tokenKey } = options;
  if (!(touchIntervalMs > 0 && touchIntervalMs * 2 <= idleTimeoutMs)) {
    throw new RangeError('the session touch interval must be positive and at most half the idle timeout');
  }
  const clock = options.now ?? Date.now;
  const cancel = { cancel: type !== 'sqlite' };
  const at = (ms: number) => toDbTimestamp(type, new Date(ms));
  const table = () => db(SESSIONS_TABLE);
  /** When this instance last wrote (or read) each session's `last_seen_at`. */
  const recent = new LRUCache<string, number>({ max: options.touchMemory ?? 20_000 });
  const remember = (hash: string, ms: number) => {
    if (ms > (recent.get(hash) ?? -Infinity)) recent.set(hash, ms);
  };

  const seal = (hash: string, column: string, token: string | null): string | null => {
    if (token === null) return null;
    if (!tokenKey) throw new SessionInputError('no token key is configured: tokens are not stored in clear');
    return sealToken(tokenKey, token, `${hash}:${column}`);
  };
  const open = (hash: string, column: string, sealed: unknown): string | null => {
    if (sealed === null || sealed === undefined || !tokenKey) return null;
    return openToken(tokenKey, String(sealed), `${hash}:${column}`);
  };
  /** Rows that are still live at `now`, as a condition: the same bounds as sessionState(). */
  const live = (query: Knex.QueryBuilder, now: number) => query
    .whereNull('ended_at')
    .where('expires_at', '>', at(now))
    .where('last_seen_at', '>', at(now - idleTimeoutMs));

  const readRecord = async (hash: string): Promise<SessionRecord | null> => {
    const rows = await guard<Row[]>(() => table()
      .select([...RECORD_COLUMNS, db.raw('case when refresh_token is null then 0 else 1 end as has_refresh')])
      .where('id_hash', hash)
      .timeout(timeoutMs, cancel));
    const row = rows[0];
    // MySQL's binary collation already compares exactly; this keeps it so on any collation.
    return row && String(row.id_hash) === hash ? toRecord(row) : null;
  };

  async function lookup(rawId: string): Promise<SessionLookup> {
    if (typeof rawId !== 'string' || !isSessionId(rawId)) return { state: 'unknown' };
    const record = await readRecord(hashSessionId(rawId));
    if (!record) return { state: 'unknown' };
    const state = sessionState(record, clock(), idleTimeoutMs);
    if (state === 'live') remember(record.hash, record.lastSeenAt);
    return { state, record };
  }

  const endWhere = async (column: 'user_id' | 'key_hash', value: string, reason: SessionEndReason): Promise<string[]> => {
    checkReason(reason);
    const now = clock();
    const rows = await guard<Row[]>(() => table().select('id_hash').where(column, value).whereNull('ended_at').where('expires_at', '>', at(now)).timeout(timeoutMs, cancel));
    const hashes = rows.map((r) => String(r.id_hash));
    // Exactly the sessions found: one started after the select is not reported, so it is not ended either.
    for (let i = 0; i < hashes.length; i += CHUNK) {
      const chunk = hashes.slice(i, i + CHUNK);
      await guard(() => table().whereIn('id_hash', chunk).whereNull('ended_at').update({ ended_at: at(now), end_reason: reason }).timeout(timeoutMs, cancel));
    }
    for (const hash of hashes) recent.delete(hash);
    return hashes;
  };

  return {
    async create(session) {
      const s = checkNewSession(session);
      const id = generateSessionId();
      const hash = hashSessionId(id);
      const now = clock();
      const refreshToken = seal(hash, 'refresh_token', s.refreshToken);
      const idTokenHint = seal(hash, 'id_token_hint', s.idTokenHint);
      await guard(() => table().insert({
        id_hash: hash,
        kind: s.kind,
        user_id: s.userId,
        display_name: s.displayName,
        email: s.email,
        subject: s.subject,
        issuer: s.issuer,
        groups_json: s.groupsJson,
        roles_json: s.rolesJson,
        key_hash: s.keyHash,
        refresh_token: refreshToken,
        id_token_hint: idTokenHint,
        created_at: at(now),
        last_seen_at: at(now),
        expires_at: at(now + s.lifetimeMs),
        groups_checked_at: at(now),
        ended_at: null,
        end_reason: null,
      }).timeout(timeoutMs, cancel));
      remember(hash, now);
      const record: SessionRecord = {
        hash,
        kind: s.kind,
        userId: s.userId,
        displayName: s.displayName,
        email: s.email,
        subject: s.subject,
        issuer: s.issuer,
        groups: [...session.groups],
        roles: [...session.roles],
        keyHash: s.keyHash,
        hasRefreshToken: refreshToken !== null,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + s.lifetimeMs,
        groupsCheckedAt: now,
        endedAt: null,
        endReason: null,
      };
      return { id, record };
    },

    lookup,

    async find(rawId) {
      const found = await lookup(rawId);
      return found.state === 'live' ? found.record : null;
    },

    async touch(hash) {
      if (!isSessionHash(hash)) return false;
      const now = clock();
      const last = recent.get(hash);
      if (last !== undefined && now - last < touchIntervalMs) return false;
      // Before the write, so requests arriving while it runs do not each send one.
      recent.set(hash, now);
      try {
        // Unchanged when another instance wrote within the interval: then no row is rewritten.
        const changed = await live(table().where('id_hash', hash), now)
          .where('last_seen_at', '<=', at(now - touchIntervalMs))
          .update({ last_seen_at: at(now) })
          .timeout(timeoutMs, cancel);
        return Number(changed) > 0;
      } catch (err) {
        recent.delete(hash);
        throw new SessionStoreUnavailableError(describeDbError(err));
      }
    },

    async readTokens(hash) {
      if (!isSessionHash(hash)) return null;
      const rows = await guard<Row[]>(() => table()
        .select('id_hash', 'refresh_token', 'id_token_hint', 'ended_at', 'expires_at', 'last_seen_at')
        .where('id_hash', hash)
        .timeout(timeoutMs, cancel));
      const row = rows[0];
      if (!row || String(row.id_hash) !== hash) return null;
      const times = { endedAt: row.ended_at == null ? null : readTime(row.ended_at), expiresAt: readTime(row.expires_at), lastSeenAt: readTime(row.last_seen_at) };
      if (sessionState(times, clock(), idleTimeoutMs) !== 'live') return null;
      return { refreshToken: open(hash, 'refresh_token', row.refresh_token), idTokenHint: open(hash, 'id_token_hint', row.id_token_hint) };
    },

    async updateGroups(hash, update) {
      const { groupsJson, rolesJson } = checkLists(update);
      if (!isSessionHash(hash)) return false;
      const now = clock();
      const values: Row = { groups_json: groupsJson, roles_json: rolesJson, groups_checked_at: at(now) };
      if (update.refreshToken !== undefined) values.refresh_token = seal(hash, 'refresh_token', update.refreshToken);
      const changed = await guard(() => live(table().where('id_hash', hash), now).update(values).timeout(timeoutMs, cancel));
      return Number(changed) > 0;
    },

    async end(hash, reason) {
      checkReason(reason);
      if (!isSessionHash(hash)) return false;
      const now = clock();
      const changed = await guard(() => table().where('id_hash', hash).whereNull('ended_at').update({ ended_at: at(now), end_reason: reason }).timeout(timeoutMs, cancel));
      recent.delete(hash);
      return Number(changed) > 0;
    },

    endForUser: (userId, reason) => endWhere('user_id', userId, reason),

    async endForKey(keyHash, reason) {
      if (!isSessionHash(keyHash)) throw new SessionInputError('a key is named by its SHA-256 as 64 lower-case hex digits');
      return endWhere('key_hash', keyHash, reason);
    },

    async purgeExpired(olderThan) {
      if (!Number.isFinite(olderThan)) throw new SessionInputError('olderThan must be a time');
      const deleted = await guard(() => table()
        .where((q) => q
          .where('ended_at', '<', at(olderThan))
          .orWhere('expires_at', '<', at(olderThan))
          .orWhere('last_seen_at', '<', at(olderThan - idleTimeoutMs)))
        .delete()
        .timeout(timeoutMs, cancel));
      return Number(deleted);
    },

    async ping() {
      // The table, not just the server: sign-in cannot work before `db migrate` created it.
      await guard(() => table().select('id_hash').whereRaw('1 = 0').timeout(timeoutMs, cancel));
    },
  };
}

/** Runs one statement; any failure is an outage described by its code only (db-error.ts). */
async function guard<T>(run: () => PromiseLike<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new SessionStoreUnavailableError(describeDbError(err));
  }
}

function checkReason(reason: SessionEndReason): void {
  if (!SESSION_END_REASONS.includes(reason)) throw new SessionInputError('unknown end reason');
}

/** A row read back; null when it cannot be trusted (a kind or list this version does not know), which denies. */
function toRecord(row: Row): SessionRecord | null {
  const kind = SESSION_KINDS.find((k) => k === row.kind);
  const groups = parseList(String(row.groups_json));
  const roles = parseList(String(row.roles_json));
  if (!kind || !groups || !roles) return null;
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  const times = {
    createdAt: readTime(row.created_at),
    lastSeenAt: readTime(row.last_seen_at),
    expiresAt: readTime(row.expires_at),
    groupsCheckedAt: readTime(row.groups_checked_at),
  };
  if (!Object.values(times).every(Number.isFinite)) return null;
  return {
    hash: String(row.id_hash),
    kind,
    userId: String(row.user_id),
    displayName: text(row.display_name),
    email: text(row.email),
    subject: text(row.subject),
    issuer: text(row.issuer),
    groups,
    roles,
    keyHash: text(row.key_hash),
    hasRefreshToken: Number(row.has_refresh) === 1,
    ...times,
    endedAt: row.ended_at === null || row.ended_at === undefined ? null : readTime(row.ended_at),
    endReason: SESSION_END_REASONS.find((r) => r === row.end_reason) ?? null,
  };
}

/**
 * Epoch ms from a time column: PostgreSQL gives a Date, SQLite the ISO text written, MySQL
 * (`dateStrings`) the stored UTC wall clock without a zone.
 */
function readTime(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  const text = String(value);
  return /[zZ]|[+-]\d{2}(:?\d{2})?$/.test(text) ? Date.parse(text) : Date.parse(`${text.replace(' ', 'T')}Z`);
}
