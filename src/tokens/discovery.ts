import { isObject, urlProblem } from './parse-fields';

/** The issuer's metadata could not be used; the message names URLs and statuses, never a token. */
export class DiscoveryError extends Error {}

const MAX_METADATA_BYTES = 512 * 1024;

/** Where the metadata may be: OpenID Connect Discovery 1.0 §4, then RFC 8414 §3 (well-known part before the path). */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/**
 * The issuer's `jwks_uri`, from the first metadata document that answers. The document must name
 * this very issuer (OIDC Discovery §4.3, RFC 8414 §3.3): otherwise an issuer could hand out keys
 * of another. Redirects are not followed.
 */
export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
  const failures: string[] = [];
  for (const url of metadataUrls(issuer)) {
    try {
      return await readJwksUri(url, issuer, timeoutMs);
    } catch (err) {
      failures.push(`${url}: ${(err as Error).message}`);
    }
  }
  throw new DiscoveryError(`no usable metadata for ${issuer} (${failures.join('; ')})`);
}

async function readJwksUri(url: string, issuer: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`answered ${res.status}`);
  }
  const text = await readLimited(res);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('is not JSON');
  }
  if (!isObject(doc)) throw new Error('is not a JSON object');
  if (doc.issuer !== issuer) throw new Error(`names issuer ${JSON.stringify(doc.issuer)}, not the one configured`);
  if (typeof doc.jwks_uri !== 'string') throw new Error('has no jwks_uri');
  const problem = urlProblem(doc.jwks_uri);
  if (problem) throw new Error(`jwks_uri ${problem}`);
  return doc.jwks_uri;
}

/** The body, refused past MAX_METADATA_BYTES while it streams in. */
async function readLimited(res: Response): Promise<string> {
  if (Number(res.headers.get('content-length') ?? 0) > MAX_METADATA_BYTES) {
    await res.body?.cancel();
    throw new Error('is too large');
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
    total += chunk.value.byteLength;
    if (total > MAX_METADATA_BYTES) {
      await reader?.cancel();
      throw new Error('is too large');
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
