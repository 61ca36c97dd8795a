import http from 'node:http';
import https from 'node:https';
import type { Config } from '../config';
import type { KeyStore } from '../keys';
import { KeyStoreUnavailableError } from '../keys';

export interface Readiness {
  readonly ready: boolean;
  readonly checks: { readonly keyStore: string; readonly upstream: string };
}

/**
 * Ready when the key store answers and the Prefect API answers at all (any HTTP status: the
 * proxy's own credential may not apply to the probe path). Each check is bounded by DB_TIMEOUT.
 */
export async function checkReadiness(config: Config, store: KeyStore): Promise<Readiness> {
  const [keyStore, upstream] = await Promise.all([
    store.ping().then(() => 'ok', (err: unknown) => (err instanceof KeyStoreUnavailableError ? `unavailable: ${err.reason}` : 'unavailable')),
    probeUpstream(config),
  ]);
  return { ready: keyStore === 'ok' && upstream === 'ok', checks: { keyStore, upstream } };
}

function probeUpstream(config: Config): Promise<string> {
  const url = new URL(config.apiServiceUrl.href);
  if (config.apiKind === 'rest') url.pathname = `${url.pathname.replace(/\/$/, '')}/api/health`;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = client.get(url, { timeout: config.db.timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500 ? 'ok' : `unhealthy: HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`unreachable: ${err.code ?? err.message}`));
  });
}
