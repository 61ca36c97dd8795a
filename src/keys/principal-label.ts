import type { Principal } from './types';

/**
 * How a refusal names who asked, so a person signed in to the UI does not read about an API key
 * they never had. The key id's prefix says which credential the principal came from.
 */
export function describePrincipal(principal: Pick<Principal, 'userId' | 'keyId'>): string {
  if (principal.keyId.startsWith('session:')) return `the session of ${principal.userId}`;
  if (principal.keyId.startsWith('machine:')) return `the token of ${principal.userId}`;
  return `API key of user ${principal.userId}`;
}
