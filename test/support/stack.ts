import type { DbKind, TestDatabase, TestKey } from './databases';
import { createTestDatabase, insertKey } from './databases';
import { migrateLatest } from '../../src/storage';
import type { TestProxy } from './proxy';
import { startTestProxy } from './proxy';
import { useStarted } from './lifecycle';
import type { RecordingUpstream } from './upstream';
import { startRecordingUpstream } from './upstream';

/** A recording upstream, a test database with keys, and the proxy in front: the usual integration set-up. */
export interface ProxyStack {
  readonly upstream: RecordingUpstream;
  readonly db: TestDatabase;
  readonly proxy: TestProxy;
}

export interface ProxyStackOptions {
  /** Database name stem (made unique per process). */
  readonly name: string;
  readonly kind?: DbKind;
  readonly keys?: readonly TestKey[];
  /** Apply the proxy's migrations too (audit table). */
  readonly migrate?: boolean;
  /** Appended to the upstream URL (a base path for API_SERVICE_URL). */
  readonly upstreamPath?: string;
  readonly env?: Record<string, string>;
}

/**
 * Starts the stack before the enclosing describe's tests and stops it after them. The fields can
 * be read once the tests run.
 */
export function useProxyStack(options: ProxyStackOptions): ProxyStack {
  return useStarted(async () => {
    const kind = options.kind ?? 'sqlite';
    const upstream = await startRecordingUpstream();
    const db = await createTestDatabase(kind, options.name);
    if (options.migrate) await migrateLatest(db.knex, kind);
    for (const key of options.keys ?? []) await insertKey(db, key);
    const proxy = await startTestProxy({ ...db.env, API_SERVICE_URL: `${upstream.url}${options.upstreamPath ?? ''}`, ...options.env });
    return { upstream, db, proxy };
  }, async ({ upstream, db, proxy }) => {
    await proxy.stop();
    await upstream.close();
    await db.drop();
  });
}
