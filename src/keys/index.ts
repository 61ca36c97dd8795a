export { readCredential } from './credentials';
export type { Credential, CredentialSource } from './credentials';
export { hashedKeyValue, sha256Hex, HASH_PREFIX } from './hash';
export { createKeyResolver, KEY_ID_LENGTH } from './key-resolver';
export type { KeyLookupObserver, KeyResolver, KeyResolverOptions } from './key-resolver';
export { KeyStoreUnavailableError } from './types';
export type { KeyRecord, KeyStore, Principal } from './types';
export { checkBy, checkUser, DEFAULT_EXPIRY, generateKey, KEY_PREFIX, KeyAdminError, normalizeScopes, parseExpiry } from './key-admin';
export type { Expiry, KeyAdmin, KeyInfo, Recorded } from './key-admin';
