import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../app-context';
import type { AuditSink, AuthFailureRecorder } from '../audit';
import { AUDIT_OUTCOMES, auditPolicy, outcomeOfClose } from '../audit';
import type { Config } from '../config';
import { ProxyError, refuseUpgrade, sendError, sendJson } from '../http';
import type { Logger } from '../log';
import type { ProxyMetrics } from '../metrics';
import type { WebsocketRelay } from '../proxy';
import type { SignIn } from '../signin';
import { createUpstream, createUpstreamPool, SocketClose } from '../proxy';
import type { Exchange, Verdict } from './chain';
import type { SocketExchange } from './websocket-steps';

interface EndingDeps {
  readonly config: Config;
  readonly context: AppContext;
  readonly logger: Logger;
  readonly audit: AuditSink;
  readonly authFailures?: AuthFailureRecorder;
  readonly metrics?: ProxyMetrics;
}

/** Client headers that claim server-side provenance (automations). */
const AUTOMATION_HEADERS = ['prefect-automation-id', 'prefect-automation-name'];

/** The audit step: what the policy keeps goes to the request's records or the failure recorder. */
function auditOf(x: Exchange<unknown>, verdict: Verdict, failures: AuthFailureRecorder | undefined) {
  const dialect = x.entry === 'admin' ? 'admin' : x.entry === 'graphql' ? 'graphql' : 'rest';
  const method = x.entry === 'websocket' ? 'WEBSOCKET' : x.req.method ?? '';
  const plan = auditPolicy({
    dialect, method, target: x.entry === 'admin' ? x.scope.route ?? 'admin' : x.scope.path, decided: x.decided,
    ...(verdict.kind === 'refuse' && verdict.early ? { early: verdict.early } : {}),
  });
  if (plan.authFailure) {
    failures?.record({ requestId: x.scope.id, client: x.scope.client, dialect, reason: plan.authFailure, route: x.scope.route ?? 'unknown' });
  }
  return plan.records;
}

export interface HttpEnding {
  (x: Exchange<unknown>, verdict: Verdict, res: ServerResponse): void;
  close(): void;
}

/** Audit, then the verdict as HTTP: forwarded, answered, served by the admin routes, or refused in the client's dialect. */
export function createHttpEnding(deps: EndingDeps & {
  readonly dialect: 'graphql' | 'rest';
  readonly serve: (x: Exchange<unknown>, req: IncomingMessage, res: ServerResponse) => unknown;
  readonly signIn?: SignIn;
}): HttpEnding {
  const { config, context, dialect } = deps;
  const pool = createUpstreamPool(config.apiServiceUrl, config.upstreamTimeoutMs);
  const forward = createUpstream({
    pool, target: config.apiServiceUrl, dialect, logger: deps.logger, trust: context.trust,
    ...(dialect === 'rest' ? { preserveHost: true, stripHeaders: AUTOMATION_HEADERS } : {}),
    ...(dialect === 'rest' && context.serverAuthorization !== undefined ? { serverAuthorization: context.serverAuthorization } : {}),
  });
  const end = ((x, verdict, res) => {
    x.scope.auditDecisions.push(...auditOf(x, verdict, deps.authFailures));
    switch (verdict.kind) {
      case 'refuse':
        // A page opened without a session goes to sign-in; API calls get 401 JSON (an XHR cannot follow a redirect to a login page).
        if (deps.signIn && verdict.error.code === 'UNAUTHENTICATED' && isNavigation(x.req)) {
          res.statusCode = 302;
          res.setHeader('Location', `/auth/login?next=${encodeURIComponent(x.req.url ?? '/')}`);
          res.setHeader('Cache-Control', 'no-store');
          return res.end();
        }
        return sendError(res, verdict.error, x.entry === 'graphql' ? 'graphql' : 'rest');
      case 'answer':
        return sendJson(res, verdict.status, verdict.body);
      case 'forward':
        return forward(x.req, res, verdict.plan);
      case 'serve':
        return void Promise.resolve(deps.serve(x, x.req, res)).catch((err: unknown) => {
          deps.logger.error('unexpected error', { requestId: x.scope.id, error: err instanceof Error ? err : String(err) });
          sendError(res, new ProxyError('INTERNAL_SERVER_ERROR', 'internal error in the auth proxy'), 'rest');
        });
    }
  }) as HttpEnding;
  end.close = () => void pool.destroy();
  return end;
}

/** A browser opening a page (not a script's request): it can be sent to the sign-in page. */
function isNavigation(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const mode = req.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  return (req.headers.accept ?? '').includes('text/html');
}

const POLICY = 1008;
/** "Try Again Later": the key's rate limit refused the connection. */
const TRY_AGAIN_LATER = 1013;

/** A refusal as a close code; the reasons for bad credentials are those Prefect's own server uses. */
function closeOf(error: ProxyError, presented: boolean): SocketClose {
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return new SocketClose(POLICY, presented ? 'Invalid token' : 'Auth required but no token provided');
    case 'TOO_MANY_REQUESTS':
      return new SocketClose(TRY_AGAIN_LATER, error.message);
    case 'FORBIDDEN':
      return new SocketClose(POLICY, `Forbidden: ${error.message}`);
    default:
      return new SocketClose(error.status >= 500 ? 1011 : POLICY, error.message);
  }
}

const SESSION_RECHECK_MS = 2_000;

/** Audit, then the verdict as a websocket: relayed to the upstream socket, or closed with a code. */
export function createSocketEnding(deps: EndingDeps & { readonly relay: WebsocketRelay; readonly signIn?: SignIn }) {
  const { relay } = deps;
  // A socket opened with the session is checked once at the handshake; after that the session is
  // read again every few seconds, so signing out, expiry or losing a group closes it too.
  const watchSession = (client: { close(code: number, reason: string): void; once(event: 'close', fn: () => void): unknown }, id: string): void => {
    const signIn = deps.signIn as SignIn;
    const timer = setInterval(() => {
      signIn.sessions.resolve(id).then(
        (found) => {
          if (!found) client.close(1008, 'your session has ended: sign in again');
        },
        () => client.close(1011, 'the session cannot be checked right now'),
      );
    }, SESSION_RECHECK_MS);
    timer.unref();
    client.once('close', () => clearInterval(timer));
  };
  const record = (x: SocketExchange, verdict: Verdict, code: number): void => {
    const time = new Date();
    const principal = x.scope.principal;
    for (const decision of auditOf(x, verdict, deps.authFailures)) {
      deps.audit.record({
        ...decision, outcome: AUDIT_OUTCOMES[outcomeOfClose(code)], time, requestId: x.scope.id, user: principal?.userId ?? null,
        keyId: principal?.keyId ?? null, client: x.scope.client, status: code, latencyMs: performance.now() - x.scope.startedAt,
      });
    }
  };

  return async (x: SocketExchange, verdict: Verdict): Promise<void> => {
    const request = x.classified;
    const accepted = request?.accepted;
    // Before the handshake the upgrade is still HTTP: a path that is no websocket of Prefect's is not found.
    if (!request || !accepted) {
      if (request) refuseUpgrade(request.socket, '404 Not Found');
      return;
    }
    if ('failure' in accepted || verdict.kind !== 'forward') {
      const close = verdict.kind === 'refuse'
        ? verdict.close ? new SocketClose(verdict.close.code, verdict.close.reason) : closeOf(verdict.error, x.credential.kind !== 'none')
        : new SocketClose(1011, 'proxy error');
      const code = 'failure' in accepted || !accepted.overflow.hit ? close.code : 1009;
      record(x, verdict, code);
      return relay.refuse(accepted.client, code, close.message);
    }
    if (x.credential.kind === 'session' && deps.signIn) watchSession(accepted.client, x.credential.id);
    try {
      await relay.relay(accepted, verdict.plan.path);
    } catch (err) {
      const close = err instanceof SocketClose ? err : new SocketClose(1011, 'proxy error');
      if (!(err instanceof SocketClose)) deps.logger.error('websocket session failed', { requestId: x.scope.id, error: err instanceof Error ? err : String(err) });
      record(x, verdict, close.code);
      return relay.refuse(accepted.client, close.code, close.message);
    }
    record(x, verdict, 101);
    deps.metrics?.websocketOpened();
    accepted.client.once('close', () => deps.metrics?.websocketClosed());
  };
}
