import type { Duplex } from 'node:stream';
import type { AppContext } from '../app-context';
import { ProxyError } from '../http';
import { readCredential } from '../keys';
import type { Accepted, SocketLocals, WebsocketRelay } from '../proxy';
import { classifySocketRequest, decideSocket } from '../proxy';
import type { Exchange, Verdict } from './chain';

/** A websocket upgrade: the raw socket until the handshake, then the accepted session. */
export interface SocketRequest {
  readonly socket: Duplex;
  readonly head: Buffer;
  local?: SocketLocals;
  accepted?: Accepted;
}

export type SocketExchange = Exchange<SocketRequest>;

const NOT_FOUND = (): Verdict => ({ kind: 'refuse', error: new ProxyError('NOT_FOUND', 'no such websocket') });

/** Prefect 2/3's websockets (events, logs, task runs): the steps that are theirs alone. */
export function createWebsocketSteps(context: AppContext, relay: WebsocketRelay) {
  const request = (x: SocketExchange): SocketRequest => x.classified as SocketRequest;
  return {
    host(x: SocketExchange): Verdict | undefined {
      return (x.req.headers.host ?? '').toLowerCase().includes('ephemeral-prefect') ? NOT_FOUND() : undefined;
    },

    classify(x: SocketExchange): Verdict | undefined {
      const local = classifySocketRequest(x.req.url ?? '', context.apiPrefixSegments);
      if (!local) return NOT_FOUND();
      request(x).local = local;
      x.scope.path = local.auditPath;
      x.scope.route = local.route;
      // Recorded however the session ends, even before a decision (a silent client, a store outage).
      x.decided = decideSocket(local, null).decided;
      return undefined;
    },

    /** From here on refusals are close codes. With Prefect's handshake the credential comes in the first message. */
    async handshake(x: SocketExchange): Promise<Verdict | undefined> {
      const accepted = await relay.accept(x.req, request(x).socket, request(x).head, x.scope.id);
      request(x).accepted = accepted;
      if (!('failure' in accepted)) return undefined;
      return { kind: 'refuse', error: new ProxyError('BAD_REQUEST', accepted.failure.message), close: { code: accepted.failure.code, reason: accepted.failure.message } };
    },

    /** A credential on the upgrade request wins; else the `auth` message's token, sent as a Bearer key. */
    credentialHeaders(x: SocketExchange) {
      const accepted = request(x).accepted;
      const token = accepted && !('failure' in accepted) ? accepted.token : undefined;
      return readCredential(x.req.headers).kind === 'key' || !token ? x.req.headers : { authorization: `Bearer ${token}` };
    },

    decide(x: SocketExchange): Verdict {
      const local = request(x).local as SocketLocals;
      const decision = decideSocket(local, x.scope.principal);
      x.scope.summary = decision.summary;
      x.decided = decision.decided;
      if (decision.refusal) return { kind: 'refuse', error: decision.refusal };
      return { kind: 'forward', plan: { path: local.forwardPath, body: null, credential: 'server' } };
    },
  };
}
