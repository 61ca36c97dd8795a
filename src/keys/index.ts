export { readCredential } from './credentials';
export type { Credential, CredentialSource } from './credentials';
export { createDatabase, ensureSqliteKeysTable, KEYS_TABLE } from './database';
export { hashedKeyValue, sha256Hex, HASH_PREFIX } from './hash';
export { createKnexKeyStore } from './knex-key-store';
export { createKeyResolver } from './key-resolver';
export type { KeyResolver, KeyResolverOptions } from './key-resolver';
export { KeyStoreUnavailableError } from './types';
export type { KeyRecord, KeyStore, Principal } from './types';
