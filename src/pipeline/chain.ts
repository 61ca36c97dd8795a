import type { IncomingMessage } from 'node:http';
import type { DecidedOperation, EarlyRefusal } from '../audit';
import type { ProxyError, RequestScope } from '../http';
import type { Credential } from '../keys';
import type { ForwardPlan } from '../proxy';

/** The ways into the proxy; each has a chain of its own in pipeline.ts. */
export type Entry = 'graphql' | 'rest' | 'websocket' | 'admin' | 'signin';

/** How a chain ends: the one value the audit policy and the renderer look at. */
export type Verdict =
  | {
    readonly kind: 'refuse';
    readonly error: ProxyError;
    readonly early?: EarlyRefusal;
    /** Websockets only: the close code the session already chose (a malformed frame, a silent client). */
    readonly close?: { readonly code: number; readonly reason: string };
  }
  /** The proxy answers itself (Prefect 1 login emulation, batches of which nothing is forwarded). */
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  /** Exactly this leaves the proxy. For a websocket, the upstream socket is opened with it. */
  | { readonly kind: 'forward'; readonly plan: ForwardPlan }
  /** One of the proxy's own routes answers (health, keys, audit...), after any check it needs. */
  | { readonly kind: 'serve' };

/**
 * One request on its way through a chain. `begin` creates it; each later field is written by the
 * one step named beside it, so what a step may read is what an earlier step in the chain wrote.
 */
export interface Exchange<Classified> {
  readonly entry: Entry;
  readonly req: IncomingMessage;
  /** begin: request id, trusted client address, path; principal and route as they become known. */
  readonly scope: RequestScope;
  /** credential */
  credential: Credential;
  /** classify: what the request is and what it needs, before any body is read. */
  classified?: Classified;
  /** body: read whole, within BODY_LIMIT and BODY_TIMEOUT; null when there is none. */
  body: Buffer | null;
  /** decide: every operation with what it needed and whether it was allowed, for the audit policy. */
  decided: DecidedOperation[];
}

export type StepName = 'host' | 'classify' | 'credential' | 'principal' | 'same-origin' | 'rate-limit' | 'handshake' | 'body' | 'lookup' | 'decide';

/** A step returns nothing to go on, or the verdict that ends the chain. */
export type Step<X> = readonly [name: StepName, run: (x: X) => Verdict | undefined | Promise<Verdict | undefined>];

/** Runs the steps in order until one gives a verdict. The last step of every chain gives one. */
export async function runChain<X>(steps: readonly Step<X>[], x: X): Promise<Verdict> {
  for (const [, run] of steps) {
    const result = run(x);
    // Most steps answer synchronously: awaiting those would cost a turn of the event loop each.
    const verdict = result instanceof Promise ? await result : result;
    if (verdict) return verdict;
  }
  throw new Error('a chain ended without a verdict');
}

export function newExchange<C>(entry: Entry, req: IncomingMessage, scope: RequestScope): Exchange<C> {
  return { entry, req, scope, credential: { kind: 'none' }, body: null, decided: [] };
}
