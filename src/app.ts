import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PipelineDeps } from './pipeline';
import { createPipeline } from './pipeline';

export type AppDeps = PipelineDeps;

export interface ProxyApp {
  /** Every HTTP request the proxy serves. */
  readonly handler: RequestListener;
  /** Websocket upgrades (REST mode; GraphQL mode has none). */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Asks websocket clients to go, waits up to `graceMs`, then cuts the rest. */
  closeSockets(graceMs: number): Promise<void>;
  /** Releases upstream connections. */
  close(): void;
}

/**
 * The proxy as the server sees it. Every way in (GraphQL, REST, websockets, the admin routes) is
 * one chain of named steps in src/pipeline/pipeline.ts.
 *
 * Proxied requests, the bulk of the traffic, are handled on plain `node:http` objects: through
 * Express's router, body-parser and http-proxy-middleware each one cost 0.51 ms of CPU instead of
 * 0.15 ms (docs/performance.md). Express serves only the proxy's own routes.
 */
export function createApp(deps: AppDeps): ProxyApp {
  const pipeline = createPipeline(deps);
  return {
    handler: pipeline.request,
    upgrade: pipeline.upgrade,
    closeSockets: (graceMs) => pipeline.closeSockets(graceMs),
    close: () => pipeline.close(),
  };
}
