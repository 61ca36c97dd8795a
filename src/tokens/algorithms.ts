import type { TokenAlgorithm } from './types';

export const ALLOWED_ALGORITHMS: readonly TokenAlgorithm[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
];

/** What Kubernetes, GitHub Actions, GitLab CI and the usual OAuth servers sign with. */
export const DEFAULT_ALGORITHMS: readonly TokenAlgorithm[] = ['RS256', 'ES256', 'PS256', 'EdDSA'];

const ALLOWED = new Set<string>(ALLOWED_ALGORITHMS);

/** Why an algorithm name cannot be configured, or undefined when it can. */
export function algorithmProblem(name: string): string | undefined {
  if (ALLOWED.has(name)) return undefined;
  if (name.toLowerCase() === 'none') return `"${name}" means unsigned tokens and is never accepted`;
  // With HMAC the verifier's key is the signer's: anyone holding the public key could sign (RFC 8725 §2.1).
  if (/^hs\d+$/i.test(name)) return `"${name}" is a shared-secret (HMAC) algorithm and is never accepted: use an asymmetric one`;
  return `"${name}" is not a known asymmetric signature algorithm (use ${ALLOWED_ALGORITHMS.join(', ')})`;
}
