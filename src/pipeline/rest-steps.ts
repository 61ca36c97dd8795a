import type { AppContext } from '../app-context';
import { hasBody, ProxyError, readBody } from '../http';
import type { RestLocals } from '../proxy';
import { classifyRestRequest, decideRest, inspectBody, restReadsBody, rewriteUiSettings } from '../proxy';
import type { Exchange, Verdict } from './chain';

export type RestExchange = Exchange<RestLocals>;

/** Prefect 2/3: the steps of the REST chain that are the dialect's own. */
export function createRestSteps(context: AppContext) {
  const { config } = context;
  const uiSettings = rewriteUiSettings(config.publicUrl, context.apiPrefix, context.trust);
  const local = (x: RestExchange): RestLocals => x.classified as RestLocals;

  return {
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
      if (classified.requirement.kind !== 'public') return undefined;
      // Only the UI's own settings file, decided on the normalized path outside the API: a name such
      // as /api/variables/name/ui-settings is an API call and needs a key like any other.
      const settings = x.req.method === 'GET' && /(^|\/)ui-settings$/.test(classified.path);
      return { kind: 'forward', plan: { path: classified.forwardPath, body: null, credential: 'none', ...(settings ? { rewrite: uiSettings } : {}) } };
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
      if (restReadsBody(x.req.method ?? '', local(x))) inspectBody(local(x), read);
      x.body = read;
      return undefined;
    },

    decide(x: RestExchange): Verdict {
      const method = x.req.method ?? '';
      const decision = decideRest(method, local(x), x.scope.principal);
      x.scope.summary = decision.summary;
      x.decided = decision.decided;
      if (decision.refusal) return { kind: 'refuse', error: decision.refusal };
      return { kind: 'forward', plan: { path: local(x).forwardPath, body: x.body, credential: 'server' } };
    },
  };
}
