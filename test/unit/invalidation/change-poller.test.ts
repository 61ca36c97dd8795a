import { PassThrough } from 'node:stream';
import type { ChangeRow, ChangeSource, Invalidation } from '../../../src/invalidation';
import { createChangePoller } from '../../../src/invalidation';
import { HOLE_GRACE_MS, MAX_HOLES, POLL_BATCH, RESYNC_AFTER_MS } from '../../../src/invalidation/change-poller';
import { createLogger } from '../../../src/log';

/** The change table as a poller sees it: rows appear when committed, whatever their id. */
class FakeTable implements ChangeSource {
  readonly table = 'prefect_auth_proxy_changes';
  rows: ChangeRow[] = [];
  missing = false;
  down = false;
  private nextId = 1;

  /** Takes an id now; the row is visible only once `commit()` runs. */
  begin(subject: string, kind = 'user'): () => void {
    const id = this.nextId++;
    return () => {
      this.rows.push({ id, kind, subject });
    };
  }

  write(subject: string, kind = 'user'): void {
    this.begin(subject, kind)();
  }

  /** Ids taken and never committed: a rolled back transaction, a sequence jump. */
  skip(count: number): void {
    this.nextId += count;
  }

  private check(): void {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432 select * where api_key = secret'), { code: 'ECONNREFUSED' });
  }

  async exists() {
    this.check();
    return !this.missing;
  }

  async latestId() {
    this.check();
    return this.rows.reduce((max, r) => Math.max(max, r.id), 0);
  }

  async read(after: number, also: readonly number[], limit: number) {
    this.check();
    return this.rows.filter((r) => r.id > after || also.includes(r.id)).sort((a, b) => a.id - b.id).slice(0, limit);
  }
}

function setUp(prepare?: (table: FakeTable) => void) {
  const table = new FakeTable();
  prepare?.(table);
  const events: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  let clock = 1_000_000;
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const poller = createChangePoller({
    source: table,
    intervalMs: 1000,
    logger: createLogger({ level: 'info', format: 'json', env: 'test', stream }),
    apply: (i: Invalidation) => events.push(i.kind === 'user' ? `user ${i.userId}` : i.kind === 'key' ? `key ${i.keyHash.slice(0, 4)}` : 'all'),
    reset: () => events.push('RESET'),
    missingTableImpact: 'Until then: trouble.',
    now: () => clock,
  });
  return {
    table, poller, events, lines,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('change poller', () => {
  it.each<[string, (t: FakeTable) => void, Array<(s: ReturnType<typeof setUp>) => void | Promise<void>>, string[]]>([
    ['applies only what comes after its start position, in order', (t) => t.write('before'), [
      (s) => s.table.write('alice'),
      (s) => s.table.write('a'.repeat(64), 'key'),
      (s) => s.table.write('', 'all'),
    ], ['user alice', 'key aaaa', 'all']],
    ['reads a row as "forget everything" when it cannot understand it', () => undefined, [
      (s) => s.table.write('x', 'drop-table'),
      (s) => s.table.write('not-a-hash', 'key'),
    ], ['all', 'all']],
    ['applies a change that commits after a later one was read (out-of-order commit)', () => undefined, [
      (s) => {
        const slow = s.table.begin('slow');
        s.table.write('fast');
        return s.poller.poll().then(slow);
      },
    ], ['user fast', 'user slow']],
    ['catches a change in flight when it started', (t) => {
      const slow = t.begin('in-flight');
      t.write('committed');
      (t as unknown as { pending: () => void }).pending = slow;
    }, [
      (s) => (s.table as unknown as { pending: () => void }).pending(),
    ], ['user in-flight']],
    ['after a short outage, applies exactly what it missed', () => undefined, [
      (s) => {
        s.table.down = true;
      },
      (s) => {
        s.table.write('during-1');
        s.table.write('during-2');
        s.advance(60_000);
      },
      (s) => {
        s.table.down = false;
      },
    ], ['user during-1', 'user during-2']],
    ['after an outage longer than the log is sure to hold, forgets everything', () => undefined, [
      (s) => {
        s.table.down = true;
        s.table.write('during');
        s.advance(RESYNC_AFTER_MS + 1);
      },
      (s) => {
        s.table.down = false;
      },
      (s) => s.table.write('after'),
    ], ['RESET', 'user after']],
    ['forgets everything when too many changes came at once', () => undefined, [
      (s) => {
        for (let i = 0; i < POLL_BATCH; i++) s.table.write(`u${i}`);
      },
      (s) => s.table.write('next'),
    ], ['RESET', 'user next']],
    ['forgets everything when ids jump further than it can track', () => undefined, [
      (s) => {
        s.table.skip(MAX_HOLES + 1);
        s.table.write('far');
      },
    ], ['RESET', 'user far']],
    ['a start that failed is followed by a full reset once the log is readable', (t) => {
      t.down = true;
    }, [
      (s) => {
        s.table.down = false;
        s.table.write('unseen');
      },
      (s) => s.table.write('seen'),
    ], ['RESET', 'user seen']],
    ['a table created after start clears the cache once, then is followed', (t) => {
      t.missing = true;
    }, [
      (s) => {
        s.table.missing = false;
      },
      (s) => s.table.write('alice'),
    ], ['RESET', 'user alice']],
  ])('%s', async (_name, prepare, steps, expected) => {
    const s = setUp(prepare);
    await s.poller.start();
    for (const step of steps) {
      await step(s);
      await s.poller.poll();
    }
    await s.poller.stop();
    expect(s.events).toEqual(expected);
  });

  it('gives up on an id that never commits after the grace period, and asks for it until then', async () => {
    const s = setUp();
    await s.poller.start();
    const reads: Array<readonly number[]> = [];
    const read = s.table.read.bind(s.table);
    s.table.read = async (after, also, limit) => (reads.push(also), read(after, also, limit));
    s.table.skip(1);
    s.table.write('after-rollback');
    await s.poller.poll();
    s.advance(HOLE_GRACE_MS - 1);
    await s.poller.poll();
    s.advance(1);
    await s.poller.poll();
    await s.poller.poll();
    expect(reads).toEqual([[], [1], [1], []]);
    await s.poller.stop();
  });

  it('never throws while the key store is down; warns once with a code, never the driver message', async () => {
    const s = setUp();
    await s.poller.start();
    s.table.down = true;
    for (let i = 0; i < 5; i++) await expect(s.poller.poll()).resolves.toBeUndefined();
    s.table.down = false;
    await s.poller.poll();
    await s.poller.stop();
    await new Promise((r) => setImmediate(r));
    const warnings = s.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ reason: 'ECONNREFUSED' });
    expect(JSON.stringify(s.lines)).not.toMatch(/secret|10\.0\.0\.5/);
    expect(s.lines.some((l) => String(l.msg ?? l.message).includes('again'))).toBe(true);
  });

  it('warns once, naming the command to run, while the table is missing', async () => {
    const s = setUp((t) => {
      t.missing = true;
    });
    await s.poller.start();
    await s.poller.poll();
    await s.poller.poll();
    await s.poller.stop();
    await new Promise((r) => setImmediate(r));
    const warnings = s.lines.filter((l) => l.level === 'warn').map((l) => String(l.msg ?? l.message));
    expect(warnings).toEqual(['table prefect_auth_proxy_changes does not exist: run `prefect-auth-proxy db migrate`. Until then: trouble.']);
  });
});
