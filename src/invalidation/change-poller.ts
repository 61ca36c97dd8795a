import type { Logger } from '../log';
import type { ChangeSource } from './change-log';
import { CHANGE_RETENTION_SECONDS, rowToInvalidation } from './change-log';
import type { Invalidation } from './messages';

/** More new rows than this in one poll: cheaper and safer to forget everything than to replay them. */
export const POLL_BATCH = 500;
/**
 * Ids are taken at insert and become visible at commit, so a lower id can appear after a higher
 * one was read. Skipped ids are asked for again for this long, then taken for rolled back.
 */
export const HOLE_GRACE_MS = 120_000;
/** Ids not yet seen that are tracked at once; more (ids jumping far ahead) and the cache is reset. */
export const MAX_HOLES = 200;
/** Ids below the start position that may still commit. */
const START_WINDOW = 32;
/** Away longer than this (half the rows' lifetime) and rows this instance needs may already be pruned. */
export const RESYNC_AFTER_MS = (CHANGE_RETENTION_SECONDS * 1000) / 2;

export interface ChangePollerOptions {
  readonly source: ChangeSource;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Forgets what one change made stale in this instance's cache. */
  apply(invalidation: Invalidation): void;
  /** Forgets everything: changes may have been missed. */
  reset(): void;
  /** What the operator loses while the change table is missing (logged once). */
  readonly missingTableImpact: string;
  onHealthChange?(healthy: boolean): void;
  readonly now?: () => number;
}

export interface ChangePoller {
  /** Reads once; never throws (a failure is logged and retried at the next poll). */
  poll(): Promise<void>;
  /** Reads the start position, then polls every interval. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Follows the key store's change table (as Kong's cluster events do): every instance applies what
 * any instance or the CLI changed, precisely, within one interval, without an extra service.
 * When it cannot know what it missed (away too long, table created late, too many changes, ids
 * jumping) it forgets the whole cache, which is always safe.
 */
export function createChangePoller(options: ChangePollerOptions): ChangePoller {
  const { source, logger } = options;
  const now = options.now ?? Date.now;
  let synced = false;
  let attempts = 0;
  let position = 0;
  const holes = new Map<number, number>();
  let lastOkAt = 0;
  let healthy: boolean | undefined;
  let missingWarned = false;
  let tableMissing = false;
  let failing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const setHealthy = (value: boolean) => {
    if (healthy !== value) options.onHealthChange?.(value);
    healthy = value;
  };

  const forgetAll = (message: string) => {
    logger.notice(message);
    options.reset();
  };

  /**
   * Takes the current end of the log as the position; ids just below it may still commit. Only the
   * sync at start, before any key was cached, may skip what came before: any later one (after a
   * failed start, a long outage, the table created late) also forgets the cache.
   */
  const sync = async (late: string | undefined): Promise<void> => {
    if (!(await source.exists())) {
      if (!missingWarned) {
        logger.warn(`table ${source.table} does not exist: run \`prefect-auth-proxy db migrate\`. ${options.missingTableImpact}`);
        missingWarned = true;
      }
      tableMissing = true;
      setHealthy(false);
      return;
    }
    const latest = await source.latestId();
    const from = Math.max(0, latest - START_WINDOW);
    const present = new Set((await source.read(from, [], START_WINDOW)).map((r) => r.id));
    holes.clear();
    const at = now();
    for (let id = from + 1; id <= latest; id++) if (!present.has(id)) holes.set(id, at);
    position = latest;
    if (late) forgetAll(late);
    tableMissing = false;
    synced = true;
    setHealthy(true);
  };

  const follow = async (): Promise<void> => {
    const rows = await source.read(position, [...holes.keys()], POLL_BATCH);
    const fresh = rows.filter((r) => r.id > position).length;
    if (fresh >= POLL_BATCH) return sync(`over ${POLL_BATCH} key changes at once; clearing the key cache rather than replaying them`);
    const at = now();
    for (const row of rows) {
      if (holes.delete(row.id)) {
        options.apply(rowToInvalidation(row));
        continue;
      }
      if (row.id <= position) continue;
      if (row.id - position - 1 + holes.size > MAX_HOLES) {
        holes.clear();
        forgetAll('key change ids jumped ahead; clearing the key cache in case a change was missed');
      } else {
        for (let id = position + 1; id < row.id; id++) holes.set(id, at);
      }
      position = row.id;
      options.apply(rowToInvalidation(row));
    }
    // Only now, after this read asked for them, are old holes given up.
    for (const [id, noticed] of holes) if (at - noticed >= HOLE_GRACE_MS) holes.delete(id);
    setHealthy(true);
  };

  const poll = async (): Promise<void> => {
    const started = now();
    attempts++;
    try {
      if (synced && started - lastOkAt > RESYNC_AFTER_MS) synced = false;
      if (synced) await follow();
      else await sync(attempts === 1 ? undefined : tableMissing
        ? `${source.table} found; clearing the key cache, which may hold keys changed before`
        : 'key change log readable again; clearing the key cache in case a change was missed');
      lastOkAt = started;
      if (failing) logger.notice('reading key changes from the key store again');
      failing = false;
    } catch (err) {
      setHealthy(false);
      if (!failing) {
        logger.warn('cannot read key changes from the key store; retrying. Meanwhile changes made elsewhere do not reach this instance', {
          reason: describe(err),
        });
      }
      failing = true;
    }
  };

  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = poll().finally(() => schedule(options.intervalMs));
    }, delay);
    timer.unref();
  };

  return {
    poll,
    async start() {
      running = poll();
      await running;
      schedule(options.intervalMs);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** A code, never a driver message: those can carry SQL with its bindings. */
function describe(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  if (e?.name === 'KnexTimeoutError') return 'timed out';
  return typeof e?.code === 'string' ? e.code : 'error';
}
