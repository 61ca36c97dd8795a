/** A key a person made for themselves, as their page shows it. Never the key itself. */
export interface OwnKey {
  readonly name: string;
  /** The key table's user id: `<owner>/<name>`, what audit rows name. */
  readonly user: string;
  readonly keyId: string;
  readonly scopes: string;
  readonly created: string;
  readonly expires: string;
  /** Null when never used, or when this store does not record use. */
  readonly lastUsed: string | null;
  readonly active: boolean;
}

export class OwnKeyError extends Error {
  constructor(readonly code: 'INVALID' | 'CONFLICT' | 'NOT_FOUND' | 'LIMIT', message: string) {
    super(message);
  }
}

/** Keys people make for themselves, and people an administrator has disabled (storage implements it). */
export interface OwnKeyStore {
  list(owner: string): Promise<OwnKey[]>;
  /** Stores the key's hash; `scopes` are already checked against the owner's. */
  create(input: { owner: string; name: string; scopes: string; lifetimeS: number; maxKeys: number }): Promise<{ key: string; info: OwnKey }>;
  /** Expires one of the owner's keys now; a key of someone else is NOT_FOUND. */
  revoke(owner: string, name: string): Promise<OwnKey>;
  /** Expires every self-service key of a person now; returns their user ids. */
  stopAll(owner: string): Promise<string[]>;
  isDisabled(person: string): Promise<boolean>;
  /** Disables a person and stops their self-service keys; enabling gives back sign-in, not the old keys. */
  setDisabled(person: string, disabled: boolean, input: { by: string; reason?: string }): Promise<{ stoppedKeys: string[] }>;
}
