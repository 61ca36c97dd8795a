import { KeyStoreUnavailableError } from '../keys';

/** `oidc`: signed in through the identity provider. `key`: signed in by pasting an API key on the proxy's page. */
export type SessionKind = 'oidc' | 'key';

export type SessionEndReason = 'logout' | 'expired' | 'revoked' | 'group-removed';

export const SESSION_KINDS: readonly SessionKind[] = ['oidc', 'key'];
export const SESSION_END_REASONS: readonly SessionEndReason[] = ['logout', 'expired', 'revoked', 'group-removed'];

/**
 * One row of the session table as the proxy sees it. Never holds the raw session id nor a token:
 * records are cached and passed along the request, tokens are read only when needed (`readTokens`).
 * Times are epoch milliseconds.
 */
export interface SessionRecord {
  /** SHA-256 hex of the raw id: the row's key, and what invalidation messages name. */
  readonly hash: string;
  readonly kind: SessionKind;
  readonly userId: string;
  readonly displayName: string | null;
  readonly email: string | null;
  /** The provider's `sub` (oidc sessions). */
  readonly subject: string | null;
  /** The provider's issuer URL (oidc sessions). */
  readonly issuer: string | null;
  readonly groups: readonly string[];
  /** The proxy roles the groups mapped to; for a key session, the key's scopes. */
  readonly roles: readonly string[];
  /** For a key session: the SHA-256 hex of the key it was started with, so revoking the key ends it. */
  readonly keyHash: string | null;
  readonly hasRefreshToken: boolean;
  readonly createdAt: number;
  /** Written at most once per touch interval: up to that much behind the last request. */
  readonly lastSeenAt: number;
  /** Absolute end, whatever the activity. */
  readonly expiresAt: number;
  readonly groupsCheckedAt: number;
  readonly endedAt: number | null;
  readonly endReason: SessionEndReason | null;
}

/** What starting a session needs; the store adds the id, the times and seals the tokens. */
export interface NewSession {
  readonly kind: SessionKind;
  readonly userId: string;
  readonly displayName?: string | null;
  readonly email?: string | null;
  readonly subject?: string | null;
  readonly issuer?: string | null;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  readonly keyHash?: string | null;
  /** Absolute lifetime from now. */
  readonly lifetimeMs: number;
  /** Stored sealed (AES-256-GCM); needs the store's token key. */
  readonly refreshToken?: string | null;
  /** The ID token, kept for the provider's end-session `id_token_hint`; stored sealed too. */
  readonly idTokenHint?: string | null;
}

export interface CreatedSession {
  /** The raw id for the cookie: returned here once, never stored, never shown again. */
  readonly id: string;
  readonly record: SessionRecord;
}

export type SessionState = 'live' | 'ended' | 'expired' | 'idle';

/** A lookup that says why a session is not usable, so the caller can audit an expiry. */
export type SessionLookup =
  | { readonly state: 'unknown' }
  | { readonly state: SessionState; readonly record: SessionRecord };

export interface SessionTokens {
  /** Null when none was stored or it cannot be opened (another token key, a damaged value). */
  readonly refreshToken: string | null;
  readonly idTokenHint: string | null;
}

export interface GroupUpdate {
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  /** The provider rotated the refresh token: the new one replaces the old. Omitted: unchanged. */
  readonly refreshToken?: string | null;
}

/**
 * Sessions kept in the key-store database, shared by every instance. Every method throws
 * SessionStoreUnavailableError when the database does not answer in time (the caller answers 503),
 * and SessionInputError for a value it refuses to store.
 */
export interface SessionStore {
  /** Generates a 256-bit random id, stores only its hash, and returns the raw id this one time. */
  create(session: NewSession): Promise<CreatedSession>;
  /** The session for a raw id and its state; malformed ids are unknown without a query. */
  lookup(rawId: string): Promise<SessionLookup>;
  /** The session for a raw id when it is live (not ended, not past its absolute expiry, not idle); else null. */
  find(rawId: string): Promise<SessionRecord | null>;
  /**
   * Records activity. Cheap by design: no statement when this instance wrote it (or read it) less
   * than the touch interval ago, and the statement changes no row when another instance did. Never
   * revives an ended, expired or idle session. True when it wrote.
   */
  touch(hash: string): Promise<boolean>;
  /** The sealed tokens, opened; null for a session that is not live. */
  readTokens(hash: string): Promise<SessionTokens | null>;
  /** New groups and roles from the provider, checked now. False when the session is not live. */
  updateGroups(hash: string, update: GroupUpdate): Promise<boolean>;
  /** True when this call ended it (false: unknown or already ended). */
  end(hash: string, reason: SessionEndReason): Promise<boolean>;
  /** Ends every session of the user that is not ended yet; returns their hashes. */
  endForUser(userId: string, reason: SessionEndReason): Promise<string[]>;
  /** Ends every session started with the key (SHA-256 hex); returns their hashes. */
  endForKey(keyHash: string, reason: SessionEndReason): Promise<string[]>;
  /** Deletes rows that stopped being live (ended, expired or idle) before `olderThan` (epoch ms); returns how many. */
  purgeExpired(olderThan: number): Promise<number>;
  /** Throws when the database does not answer or the table is missing. */
  ping(): Promise<void>;
}

/**
 * The session table cannot be reached. A KeyStoreUnavailableError, since it is the same database:
 * whoever already answers 503 and reports readiness for the key store handles it unchanged.
 */
export class SessionStoreUnavailableError extends KeyStoreUnavailableError {
  constructor(reason: string) {
    super(reason);
    this.message = `session store unavailable: ${reason}`;
  }
}

/** A value the store refuses (a bug or a misconfiguration, never an outage). Never quotes the value. */
export class SessionInputError extends Error {}
