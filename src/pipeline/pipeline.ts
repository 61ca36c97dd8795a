import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import cors from 'cors';
import type { AdminDeps } from '../admin';
import { createAdminApp } from '../admin';
import type { AppContext } from '../app-context';
import type { AuditSink, AuthFailureRecorder } from '../audit';
import { createDocumentCache } from '../authz/graphql';
import { auditFinishedRequest, beginRequest, discardUnreadBody, guardEmitter, logRequestOnFinish, pathOfTarget, ProxyError, sendError } from '../http';
import type { ProxyMetrics } from '../metrics';
import { countFinishedRequest } from '../metrics';
import { createWebsocketRelay } from '../proxy';
import type { SignIn } from '../signin';
import type { TokenVerifier } from '../tokens';
import type { AdminExchange } from './admin-steps';
import { createAdminSteps, isOwnPath, isSignInPath } from './admin-steps';
import type { Entry, Exchange, Step } from './chain';
import { newExchange, runChain } from './chain';
import { createHttpEnding, createSocketEnding } from './endings';
import type { GraphQLExchange } from './graphql-steps';
import { createGraphQLSteps } from './graphql-steps';
import type { RateGuard } from './identity';
import { createIdentitySteps } from './identity';
import type { RestExchange } from './rest-steps';
import { createRestSteps } from './rest-steps';
import type { SocketExchange } from './websocket-steps';
import { createWebsocketSteps } from './websocket-steps';

export interface PipelineDeps extends Omit<AdminDeps, 'rate' | 'authFailures'> {
  /** SIGN_IN: sessions for people, and the /auth pages. */
  readonly signIn?: SignIn;
  /** TRUSTED_ISSUERS_FILE: machine identity from signed tokens. */
  readonly tokens?: TokenVerifier;
  readonly context: AppContext;
  readonly audit: AuditSink;
  readonly rate?: RateGuard;
  /** Refused credentials, counted into the audit trail per source. */
  readonly authFailures?: AuthFailureRecorder;
  readonly metrics?: ProxyMetrics;
}

/** Every way into the proxy. */
export interface Pipeline {
  /** HTTP requests: the API dialect and the proxy's own routes. */
  readonly request: RequestListener;
  /** Websocket upgrades (REST mode). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Asks websocket clients to go, waits up to `graceMs`, then cuts the rest. */
  closeSockets(graceMs: number): Promise<void>;
  /** Releases upstream connections. */
  close(): void;
}

/**
 * The request chain of every way in, in one place. Each request:
 *
 *   begin (request id, trusted client address, on-finish accounting)
 *     → the entry's steps below, in order, until one gives a verdict
 *     → audit (one policy for all: `auditPolicy`)
 *     → forward | answer | serve | refuse (one renderer per transport: `endings.ts`)
 *
 * A step either returns nothing (go on) or the verdict; no step answers the client itself.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { config, context } = deps;
  const dialect: 'graphql' | 'rest' = config.apiKind === 'rest' ? 'rest' : 'graphql';
  const allowPublic = config.allowPublicAccess;
  const identity = createIdentitySteps({ ...deps, defaultRateLimit: config.rateLimit });
  const rest = createRestSteps(context, deps.signIn !== undefined);
  const graphql = createGraphQLSteps(context, createDocumentCache(config.graphql.maxTokens), deps.logger);
  const admin = createAdminSteps(config);
  const relay = createWebsocketRelay(deps);
  const socket = createWebsocketSteps(context, relay);

  // The chains, side by side. ALLOW_PUBLIC_ACCESS lets a request without a credential past
  // `credential` (it then has no principal to look up or limit); never on the admin chain.
  const graphqlChain: Step<GraphQLExchange>[] = [
    ['credential', identity.credential(allowPublic)],
    ['principal', identity.principal],
    ['same-origin', identity.sameOrigin],
    ['rate-limit', identity.rateLimit('graphql')],
    ['classify', graphql.classify],
    ['body', graphql.body],
    ['decide', graphql.decide],
  ];
  const restChain: Step<RestExchange>[] = [
    ['host', rest.host],
    ['classify', rest.classify], // the web UI's files end here, forwarded without a credential, unless SIGN_IN is on
    ['credential', identity.credential(allowPublic)],
    ['principal', identity.principal],
    ['same-origin', identity.sameOrigin],
    ['rate-limit', identity.rateLimit('rest')],
    ['body', rest.body],
    ['lookup', rest.lookup], // permissions narrowed to named objects: the objects, from the Prefect server (cached)
    ['decide', rest.decide],
  ];
  const websocketChain: Step<SocketExchange>[] = [
    ['host', socket.host],
    ['classify', socket.classify],
    ['handshake', socket.handshake], // from here on, refusals are close codes
    ['credential', (x) => identity.credential(allowPublic)(x, socket.credentialHeaders(x))],
    ['principal', identity.principal],
    ['same-origin', identity.sameOrigin], // with the cookie: the exact Origin
    ['rate-limit', identity.rateLimit('websocket')],
    ['decide', socket.decide],
  ];
  const adminChain: Step<AdminExchange>[] = [
    ['classify', admin.classify], // health and readiness end here: served without a key
    ['credential', identity.credential(false)],
    ['principal', identity.principal],
    ['same-origin', identity.sameOrigin],
    ['rate-limit', identity.rateLimit('admin')],
    ['decide', admin.decide],
  ];
  // Sign-in pages (SIGN_IN): public by nature; each form post checks its own Origin.
  const signinChain: Step<Exchange<never>>[] = [
    ['classify', () => ({ kind: 'serve' })],
  ];
  const chains: Record<Exclude<Entry, 'websocket'>, Step<Exchange<never>>[]> = {
    graphql: graphqlChain as Step<Exchange<never>>[],
    rest: restChain as Step<Exchange<never>>[],
    admin: adminChain as Step<Exchange<never>>[],
    signin: signinChain,
  };

  const adminApp = createAdminApp(deps, context.trust);
  const signIn = deps.signIn;
  const endHttp = createHttpEnding({
    ...deps, dialect, serve: (x, req, res) => (x.entry === 'signin' && signIn ? signIn.handle(req, res) : adminApp(req, res)),
  });
  const endSocket = createSocketEnding({ ...deps, relay });
  const corsHandler = cors({
    origin: config.corsOrigins === '*' ? '*' : [...config.corsOrigins],
    exposedHeaders: ['X-Request-Id'],
    maxAge: 600,
  });

  const internalError = (res: ServerResponse, err: unknown, requestId: string): void => {
    deps.logger.error('unexpected error', { requestId, error: err instanceof Error ? err : String(err) });
    sendError(res, new ProxyError('INTERNAL_SERVER_ERROR', 'internal error in the auth proxy'), dialect);
  };

  const request: RequestListener = (req, res) => {
    const path = pathOfTarget(req.url);
    const entry = path !== undefined && isOwnPath(path) ? 'admin' : path !== undefined && deps.signIn && isSignInPath(path) ? 'signin' : dialect;
    const scope = beginRequest(req, res, context.trust, path ?? '(invalid)');
    if (entry === 'graphql') scope.route = 'graphql';
    logRequestOnFinish(deps.logger, req, res, entry === 'admin' || entry === 'signin');
    // One place for every route: an answer given before the body was read leaves the rest to drain.
    res.once('finish', () => discardUnreadBody(req));
    res.once('close', () => {
      auditFinishedRequest(deps.audit, scope, res);
      if (deps.metrics) countFinishedRequest(deps.metrics, entry === 'signin' ? 'admin' : entry, scope, res);
    });
    if (path === undefined) {
      // Absolute-form and asterisk targets are for forward proxies; nothing here routes them.
      return sendError(res, new ProxyError('BAD_REQUEST', 'the request target must be a path starting with /'), dialect);
    }
    const run = (): void => {
      const x = newExchange<never>(entry, req, scope);
      runChain(chains[entry], x).then((verdict) => endHttp(x, verdict, res)).catch((err: unknown) => internalError(res, err, scope.id));
    };
    // Only browsers send Origin; the CLI, workers and agents skip the CORS work.
    if (req.headers.origin) return corsHandler(req, res, (err?: unknown) => (err ? internalError(res, err, scope.id) : run()));
    run();
  };

  const upgrade = (req: IncomingMessage, raw: Duplex, head: Buffer): void => {
    guardEmitter(raw, 'upgrade socket', deps.logger);
    const scope = beginRequest(req, undefined, context.trust, pathOfTarget(req.url) ?? '(invalid)');
    const x: SocketExchange = newExchange('websocket', req, scope);
    x.classified = { socket: raw, head };
    runChain(websocketChain, x).then((verdict) => endSocket(x, verdict)).catch((err: unknown) => {
      deps.logger.error('websocket session failed', { requestId: scope.id, error: err instanceof Error ? err : String(err) });
      const accepted = x.classified?.accepted;
      if (accepted) accepted.client.terminate();
      else raw.destroy();
    });
  };

  return {
    request,
    upgrade,
    closeSockets: (graceMs) => relay.close(graceMs),
    close: () => {
      endHttp.close();
      void rest.close();
    },
  };
}
