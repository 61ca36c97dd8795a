import type { TestDatabase, TestKey } from './databases';
import { createTestDatabase, insertKey } from './databases';
import type { TestProxy } from './proxy';
import { startTestProxy } from './proxy';
import type { WebsocketUpstream } from './websocket-upstream';
import { startWebsocketUpstream } from './websocket-upstream';
import { useStarted } from './lifecycle';

export interface WebsocketStack {
  readonly upstream: WebsocketUpstream;
  readonly db: TestDatabase;
  readonly proxy: TestProxy;
}

/**
 * A Prefect websocket stand-in, an SQLite key store with `keys`, and a REST-mode proxy in front,
 * started before the enclosing describe's tests and stopped after them.
 */
export function useWebsocketStack(options: { name: string; serverAuth: string; keys: readonly TestKey[]; env?: Record<string, string> }): WebsocketStack {
  return useStarted(async () => {
    const upstream = await startWebsocketUpstream(options.serverAuth);
    const db = await createTestDatabase('sqlite', options.name);
    for (const key of options.keys) await insertKey(db, key);
    const proxy = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, UPSTREAM_AUTH_STRING: options.serverAuth, ...options.env });
    return { upstream, db, proxy };
  }, async ({ upstream, db, proxy }) => {
    await proxy.stop();
    await upstream.close();
    await db.drop();
  });
}
