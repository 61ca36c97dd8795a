import type { ObjectScopes } from '../authz';
import type { RateLimitSetting } from '../ratelimit';

/** A row of `prefect_api_keys` that matched a presented key and has not expired. */
export interface KeyRecord {
  readonly userId: string;
  readonly scopes: string;
  /** Seconds until `key_expr_dt`, computed by the database so its clock and time zone decide. */
  readonly secondsLeft: number;
}

/** The database behind the keys. Implementations must look up by `api_key` using its index. */
export interface KeyStore {
  /** Rows whose `api_key` is one of `candidates` and that have not expired. */
  findValidKeys(candidates: readonly string[]): Promise<KeyRecord[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Who is calling, once the key is known. Never holds the key itself. */
export interface Principal {
  readonly userId: string;
  /** Scopes as stored (roles not expanded), for display. */
  readonly scopeList: readonly string[];
  /** Scopes with roles expanded: what the key may hand out to keys it creates. */
  readonly effectiveScopes: readonly string[];
  /** Compiled with selectors (authz `compileScopes`): `isAllowed` reads them for requests not tied to objects, `isAllowedOn` object by object. */
  readonly scopes: ObjectScopes;
  /** Identifies the key in audit records and `keys list`: the start of its SHA-256, never the key. */
  readonly keyId: string;
  /** Requests per second this key may make; null when unlimited. */
  readonly rateLimit: RateLimitSetting;
}

export class KeyStoreUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`key store unavailable: ${reason}`);
  }
}
