import type { CompiledScopes } from '../authz';

/** Signature algorithms a trusted issuer may use: asymmetric only, so a public key can never sign. */
export type TokenAlgorithm =
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA' | 'Ed25519';

/** A public JSON Web Key Set written into the file (no discovery, no fetching). */
export interface InlineJwks {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

/** One claim's accepted values: anchored patterns where `*` matches any run of characters. */
export interface ClaimCondition {
  /** Claim name, or a dotted path into nested objects (`kubernetes.io.namespace`). */
  readonly claim: string;
  /** As written, for messages and documentation. */
  readonly patterns: readonly string[];
  readonly matchers: readonly RegExp[];
}

/** Every condition must hold (AND); within one condition, any pattern may match (OR). */
export interface RoleRule {
  readonly when: readonly ClaimCondition[];
  readonly grant: readonly string[];
}

/** One entry of the trusted issuers file, validated and with defaults applied. */
export interface TrustedIssuer {
  /** Short label for audit records and messages; unique in the file. */
  readonly name: string;
  /** Compared exactly with the token's `iss`, as written (no trailing slash added or removed). */
  readonly issuer: string;
  /** The token's `aud` must hold at least one of these. Never empty. */
  readonly audiences: readonly string[];
  /** Where the keys are; undefined: from discovery (unless `jwks` is given). */
  readonly jwksUri: string | undefined;
  /** Keys written into the file instead of fetched. */
  readonly jwks: InlineJwks | undefined;
  readonly algorithms: readonly TokenAlgorithm[];
  /** Claim (or dotted path) that names the machine. */
  readonly subjectClaim: string;
  readonly rules: readonly RoleRule[];
  /** Seconds: a token whose `exp` − `iat` is longer is refused. */
  readonly maxLifetimeS: number;
  /** Seconds of clock difference tolerated on `exp`, `nbf` and `iat`. */
  readonly clockSkewS: number;
}

/** Who a verified token names, and what it may do: the same roles and scopes as a key. */
export interface MachineIdentity {
  /** The `iss` of the token, as configured. */
  readonly issuer: string;
  /** The issuer's `name` in the file. */
  readonly issuerName: string;
  /** The value of the issuer's subject claim. */
  readonly subject: string;
  readonly roles: readonly string[];
  /** `role:<name>` for each role: what a key with these roles would store. */
  readonly scopeList: readonly string[];
  /** Scopes with roles expanded. */
  readonly effectiveScopes: readonly string[];
  readonly scopes: CompiledScopes;
  /** Milliseconds since the epoch: the token's `exp`. */
  readonly expiresAt: number;
  /**
   * The start of SHA-256(issuer, subject) (hex): the same for every token of this machine, so it can
   * stand where a key id does (rate limits, metrics, audit) while the machine's tokens come and go.
   */
  readonly machineId: string;
  /** The start of the token's SHA-256 (hex): names this one token. */
  readonly tokenId: string;
  /** The subject claim, the claims the role rules read and a few identifying ones, as short strings. */
  readonly claimsSummary: Readonly<Record<string, string>>;
}

export type TokenRefusalCode = 'UNAUTHENTICATED' | 'SERVICE_UNAVAILABLE';

export type VerifyResult =
  | { readonly ok: true; readonly identity: MachineIdentity }
  | {
    readonly ok: false;
    readonly code: TokenRefusalCode;
    /** Short and fixed: safe to show the client and to log. Never holds the token. */
    readonly reason: string;
    /** When the token was verified but refused (no role), for the audit record. */
    readonly issuer?: string;
    readonly subject?: string;
  };
