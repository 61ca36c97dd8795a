import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CryptoKey, JWK } from 'jose';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';

/**
 * A small token issuer for the machine-token tests: real keys made with jose, a real HTTP server on
 * 127.0.0.1 (ephemeral port) serving discovery and the key set, and signing of any token a test
 * needs, valid or not. Not a protocol mock: the verifier fetches metadata and keys over HTTP as it
 * would from Kubernetes or GitHub.
 */
export type TestAlg = 'RS256' | 'ES256' | 'PS256' | 'EdDSA';

export interface TestKey {
  readonly kid: string;
  readonly alg: TestAlg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface TokenIssuerOptions {
  /** Which metadata document is served: OpenID Connect Discovery (default), RFC 8414, or none. */
  readonly discovery?: 'oidc' | 'oauth' | 'none';
  /** Path of the issuer under the server's origin, e.g. `/tenant-a`. Default none. */
  readonly path?: string;
  /** The `issuer` the metadata names; default the real one (set it to test a mismatch). */
  readonly metadataIssuer?: string;
}

/** Claims to sign; a claim set to `undefined` is left out (a token without `exp`, ...). */
export type TestClaims = Record<string, unknown>;

export interface SignOptions {
  readonly key?: TestKey;
  /** Extra or replaced protected header parameters (`typ`, `kid`, ...); `undefined` removes one. */
  readonly header?: Record<string, unknown>;
}

export interface TestTokenIssuer {
  /** `http://127.0.0.1:<port>[path]`. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** Published from the start. */
  readonly keys: { readonly RS256: TestKey; readonly ES256: TestKey };
  /** A new key, not published until `publish` (rotation). */
  createKey(alg: TestAlg): Promise<TestKey>;
  publish(key: TestKey): void;
  unpublish(key: TestKey): void;
  /** `/jwks` answers 503 while down; everything else keeps answering. */
  setJwksAvailable(available: boolean): void;
  setDiscoveryAvailable(available: boolean): void;
  /** How many GET requests a path received (`/jwks`, `/.well-known/openid-configuration`, ...). */
  requestCount(path: string): number;
  /** Default claims: iss, aud `urn:test:proxy`, sub `machine-1`, iat now, exp in 5 minutes; `claims` override them. */
  sign(claims?: TestClaims, options?: SignOptions): Promise<string>;
  /** Public key of `key` as SPKI PEM: what an HS256 forgery would use as its "secret". */
  publicPem(key: TestKey): Promise<string>;
  stop(): Promise<void>;
}

export const TEST_AUDIENCE = 'urn:test:proxy';

export async function createTestKey(alg: TestAlg): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  return { kid, alg, privateKey, publicKey, publicJwk: { ...await exportJWK(publicKey), kid, alg, use: 'sig' } };
}

export async function startTokenIssuer(options: TokenIssuerOptions = {}): Promise<TestTokenIssuer> {
  const keys = { RS256: await createTestKey('RS256'), ES256: await createTestKey('ES256') };
  const published = new Map<string, JWK>([keys.RS256, keys.ES256].map((k) => [k.kid, k.publicJwk]));
  const counts = new Map<string, number>();
  const available = { jwks: true, discovery: true };
  const path = options.path ?? '';
  let issuer = '';

  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(pathname, (counts.get(pathname) ?? 0) + 1);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (pathname === '/jwks') {
      if (!available.jwks) return void json(503, { error: 'down (test)' });
      return void json(200, { keys: [...published.values()] });
    }
    const metadataPath = options.discovery === 'oauth' ? `/.well-known/oauth-authorization-server${path}`
      : options.discovery === 'none' ? undefined : `${path}/.well-known/openid-configuration`;
    if (pathname === metadataPath) {
      if (!available.discovery) return void json(503, { error: 'down (test)' });
      return void json(200, { issuer: options.metadataIssuer ?? issuer, jwks_uri: `${new URL(issuer).origin}/jwks`, response_types_supported: ['id_token'] });
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = `${origin}${path}`;

  return {
    issuer,
    jwksUri: `${origin}/jwks`,
    keys,
    createKey: createTestKey,
    publish: (key) => void published.set(key.kid, key.publicJwk),
    unpublish: (key) => void published.delete(key.kid),
    setJwksAvailable: (value) => void (available.jwks = value),
    setDiscoveryAvailable: (value) => void (available.discovery = value),
    requestCount: (p) => counts.get(p) ?? 0,
    async sign(claims = {}, signOptions = {}) {
      const key = signOptions.key ?? keys.RS256;
      const nowS = Math.floor(Date.now() / 1000);
      const payload = withoutUndefined({ iss: issuer, aud: TEST_AUDIENCE, sub: 'machine-1', iat: nowS, exp: nowS + 300, ...claims });
      const header = withoutUndefined({ alg: key.alg, kid: key.kid, typ: 'JWT', ...signOptions.header });
      // jose signs a `crit` header only when told the extensions are understood.
      const crit = Array.isArray(header.crit) ? Object.fromEntries((header.crit as string[]).map((name) => [name, true])) : undefined;
      return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.privateKey, { crit });
    },
    publicPem: (key) => exportSPKI(key.publicKey),
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

function encodePart(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned token (`alg: none`, empty signature), as RFC 7519 §6 defines it. */
export function unsignedToken(claims: TestClaims): string {
  return `${encodePart({ alg: 'none', typ: 'JWT' })}.${encodePart(claims)}.`;
}

/** The classic key-confusion forgery: HS256 with the issuer's public key (PEM text) as the HMAC secret. */
export function hmacToken(claims: TestClaims, secret: string, kid?: string): string {
  const input = `${encodePart({ alg: 'HS256', typ: 'JWT', ...(kid ? { kid } : {}) })}.${encodePart(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The token with claims changed in its payload and the original signature kept. */
export function tamperToken(token: string, changes: TestClaims): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TestClaims;
  return `${header}.${encodePart({ ...claims, ...changes })}.${signature}`;
}

/** The claims of a token, unverified: for assertions. */
export function claimsOf(token: string): TestClaims {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as TestClaims;
}
