import http from 'node:http';
import https from 'node:https';
import type { Config } from '../config';
import { KeyStoreUnavailableError } from '../keys';
import type { Logger } from '../log';

export type CheckState = 'ok' | 'unavailable';

export interface Readiness {
  readonly ready: boolean;
  /** What the public /readyz may say: which dependency is down, nothing about why. */
  readonly checks: { readonly keyStore: CheckState; readonly upstream: CheckState; readonly signIn?: CheckState };
  /** Why, for the log only: driver errors name database users, hosts and ports. */
  readonly reasons: { readonly keyStore?: string; readonly upstream?: string; readonly signIn?: string };
}

/**
 * Ready when the key store answers and the Prefect API answers at all (any HTTP status: the
 * proxy's own credential may not apply to the probe path). Each check is bounded by DB_TIMEOUT.
 */
export async function checkReadiness(config: Config, pingKeyStore: () => Promise<void>, signInProblem?: () => Promise<string | undefined>): Promise<Readiness> {
  const [keyStore, upstream, signIn] = await Promise.all([
    pingKeyStore().then(() => undefined, (err: unknown) => (err instanceof KeyStoreUnavailableError ? err.reason : 'error')),
    probeUpstream(config),
    signInProblem?.() ?? Promise.resolve(undefined),
  ]);
  const state = (problem: string | undefined): CheckState => (problem === undefined ? 'ok' : 'unavailable');
  return {
    ready: keyStore === undefined && upstream === undefined && signIn === undefined,
    checks: { keyStore: state(keyStore), upstream: state(upstream), ...(signInProblem ? { signIn: state(signIn) } : {}) },
    reasons: { ...(keyStore === undefined ? {} : { keyStore }), ...(upstream === undefined ? {} : { upstream }), ...(signIn === undefined ? {} : { signIn }) },
  };
}

/** The public answer's `detail`, naming the dependencies that are down. */
export function describeNotReady(readiness: Readiness): string {
  const down = [
    readiness.checks.keyStore === 'ok' ? undefined : 'key store unavailable',
    readiness.checks.upstream === 'ok' ? undefined : 'upstream unavailable',
    readiness.checks.signIn === 'unavailable' ? 'sign-in unavailable' : undefined,
  ].filter(Boolean);
  return `not ready: ${down.join('; ')}`;
}

/**
 * Logs why the proxy is not ready, at most once per `intervalMs` unless the reasons change: probes
 * come every few seconds from every balancer, and anyone may call /readyz.
 */
export function createReadinessReporter(logger: Logger, intervalMs = 60_000): (readiness: Readiness) => void {
  let last = '';
  let lastAt = 0;
  return (readiness) => {
    const key = readiness.ready ? '' : JSON.stringify(readiness.reasons);
    const now = Date.now();
    if (key === last && (key === '' || now - lastAt < intervalMs)) return;
    if (key === '') logger.info('ready again');
    else logger.warn('not ready', { ...readiness.checks, reasons: readiness.reasons });
    last = key;
    lastAt = now;
  };
}

/** Undefined when the upstream answered below 500, else the reason. */
function probeUpstream(config: Config): Promise<string | undefined> {
  const url = new URL(config.apiServiceUrl.href);
  if (config.apiKind === 'rest') url.pathname = `${url.pathname.replace(/\/$/, '')}/api/health`;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = client.get(url, { timeout: config.db.timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500 ? undefined : `unhealthy: HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`unreachable: ${err.code ?? err.message}`));
  });
}
