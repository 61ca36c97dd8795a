// The credentials a person and a machine bring instead of a key, for the same-run comparison with a
// key (issues 13 and 14): a session started on the proxy's sign-in page, and a signed token from a
// trusted issuer whose public key is written into the issuers file (no network).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { URLSearchParams } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const ISSUER = 'https://ci.bench.example';
const AUDIENCE = 'prefect-bench';

/** An issuers file trusting one ES256 key, and a token of it granting `developer`, valid for 50 minutes. */
export async function benchTokenIssuer() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES256', use: 'sig' };
  const file = join(mkdtempSync(join(tmpdir(), 'bench-issuers-')), 'issuers.json');
  writeFileSync(file, JSON.stringify({
    issuers: [{ name: 'bench', issuer: ISSUER, audiences: [AUDIENCE], jwks: { keys: [jwk] }, algorithms: ['ES256'], roles: [{ when: { sub: 'bench-machine' }, grant: 'developer' }] }],
  }));
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'bench-1', typ: 'at+jwt' })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('bench-machine').setIssuedAt().setExpirationTime('50m').sign(privateKey);
  return { file, token };
}

/** Signs in with a key on the proxy's page, as a browser would; returns the `Cookie` header value. */
export async function benchSession(baseUrl, key) {
  const res = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ key, next: '/' }),
    headers: { origin: baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pap-session='));
  if (res.status !== 303 || !cookie) throw new Error(`sign-in for the benchmark failed: ${res.status}`);
  return cookie.split(';')[0];
}
