import type { AppContext } from '../app-context';
import { hasBody, ProxyError, readBody } from '../http';
import type { ObjectLookup } from '../lookup';
import { createServerObjectLookup, evictionsOf, LookupFailedError } from '../lookup';
import type { RestLocals } from '../proxy';
import { classifyRestRequest, decideRest, inspectBody, objectPlan, restReadsBody, rewriteUiSettings } from '../proxy';
import type { Exchange, Verdict } from './chain';

export type RestExchange = Exchange<RestLocals>;

const READS = new Set(['GET', 'HEAD']);

/**
 * Prefect 2/3: the steps of the REST chain that are the dialect's own. `objects` looks up the named
 * things narrowed scopes are decided on (at the Prefect server, by default).
 */
export function createRestSteps(context: AppContext, signIn: boolean, objects: ObjectLookup = createServerObjectLookup(context)) {
  const { config } = context;
  // With sign-in on, the UI must not show its password page: the session cookie authenticates it.
  const uiSettings = rewriteUiSettings(config.publicUrl, context.apiPrefix, context.trust, signIn ? null : 'BASIC');
  const uiFile = (local: RestLocals, method: string): Verdict => {
    // Only the UI's own settings file, decided on the normalized path outside the API: a name such
    // as /api/variables/name/ui-settings is an API call and needs a key like any other.
    const settings = method === 'GET' && /(^|\/)ui-settings$/.test(local.path);
    return { kind: 'forward', plan: { path: local.forwardPath, body: null, credential: 'none', ...(settings ? { rewrite: uiSettings } : {}) } };
  };
  const local = (x: RestExchange): RestLocals => x.classified as RestLocals;

  /**
   * The named things a narrowed scope decides this request on (deployments, flow runs, queues,
   * blocks, variables addressed by id), asked of the Prefect server with the server's credential,
   * through a short cache. A lookup that fails or times out refuses the request (503). Keys without
   * selectors, and requests a scope without a selector settles, ask nothing.
   */
  const lookup = async (x: RestExchange): Promise<Verdict | undefined> => {
    const method = x.req.method ?? '';
    const l = local(x);
    if (l.requirement.kind !== 'permissions' || l.resolved !== undefined) return undefined;
    // Keys without selectors (nearly every request) never depend on objects: nothing to plan.
    const plan = objectPlan(method, l, x.scope.principal);
    if (plan?.type !== 'objects' || plan.lookups.length === 0) return undefined;
    const lookups = plan.lookups;
    try {
      l.resolved = await objects.resolve(lookups, x.scope.id);
    } catch (err) {
      if (!(err instanceof LookupFailedError)) throw err;
      x.scope.summary = `${method} ${l.route}: ${err.message}`;
      return { kind: 'refuse', error: new ProxyError('SERVICE_UNAVAILABLE', `${err.message}; try again shortly`) };
    }
    return undefined;
  };

  return {
    /** Releases the lookups' connections to the Prefect server. */
    close: (): Promise<void> => objects.close(),

    /** Prefect treats a Host containing `ephemeral-prefect` as an in-process call; nobody outside may claim it. */
    host(x: RestExchange): Verdict | undefined {
      if (!(x.req.headers.host ?? '').toLowerCase().includes('ephemeral-prefect')) return undefined;
      return { kind: 'refuse', error: new ProxyError('BAD_REQUEST', 'invalid Host header') };
    },

    /**
     * The normalized path and what it needs. The web UI's files and settings need no credential:
     * outside the API the server's string is never sent, so a server whose API lives elsewhere
     * fails closed instead of answering as the proxy.
     */
    classify(x: RestExchange): Verdict | undefined {
      const classified = classifyRestRequest(x.req.method ?? '', x.req.url ?? '', context.apiPrefixSegments);
      if (classified instanceof ProxyError) return { kind: 'refuse', error: classified };
      x.classified = classified;
      x.scope.path = classified.path;
      x.scope.route = classified.route;
      // With sign-in on, the UI's pages need a session (or a key) too: opened without one, they lead to sign-in.
      return classified.requirement.kind === 'public' && !signIn ? uiFile(classified, x.req.method ?? '') : undefined;
    },

    /**
     * Every body is read whole, within BODY_LIMIT and BODY_TIMEOUT, before the request takes an
     * upstream connection: a client trickling its body must not hold one of them.
     */
    async body(x: RestExchange): Promise<Verdict | undefined> {
      if (Number(x.req.headers['content-length'] ?? 0) > config.bodyLimitBytes) {
        return { kind: 'refuse', error: new ProxyError('PAYLOAD_TOO_LARGE', 'request body is too large') };
      }
      if (!hasBody(x.req)) return undefined;
      const read = await readBody(x.req, config.bodyLimitBytes, config.bodyTimeoutMs);
      if (read instanceof ProxyError) return { kind: 'refuse', error: read };
      if (restReadsBody(x.req.method ?? '', local(x), x.scope.principal)) inspectBody(local(x), read);
      x.body = read;
      return undefined;
    },

    lookup,

    decide(x: RestExchange): Verdict {
      const method = x.req.method ?? '';
      const l = local(x);
      if (l.requirement.kind === 'public') return uiFile(l, method);
      // Without the lookup step's objects, a narrowed scope's decision refuses (503): never an allow.
      const decision = decideRest(method, l, x.scope.principal);
      x.scope.summary = decision.summary;
      x.decided = decision.decided;
      if (decision.refusal) return { kind: 'refuse', error: decision.refusal };
      // A change passing through: what the lookup cache holds of the objects it touches is asked again.
      if (!READS.has(method.toUpperCase()) && l.requirement.kind === 'permissions' && l.requirement.matched) {
        objects.forget(evictionsOf(method, l.requirement.route, l.segments ?? []));
      }
      return { kind: 'forward', plan: { path: l.forwardPath, body: x.body, credential: 'server' } };
    },
  };
}
