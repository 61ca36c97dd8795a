import type { RateLimit, RateLimitSetting } from '../../../src/ratelimit';
import { gcra, limitCovers, parseRateSpec, rateLimitFor } from '../../../src/ratelimit';

describe('parseRateSpec', () => {
  it.each<[string, RateLimitSetting | undefined]>([
    ['off', null], ['OFF', null], ['none', null],
    ['10', { rps: 10, burst: 10 }], ['2.5', { rps: 2.5, burst: 3 }], ['0.1', { rps: 0.1, burst: 1 }],
    ['10/1', { rps: 10, burst: 1 }], ['1/100', { rps: 1, burst: 100 }],
    ['0', undefined], ['-1', undefined], ['10/0', undefined], ['10/2.5', undefined], ['ten', undefined],
    ['10/20/30', undefined], ['', undefined], ['1e3', undefined], ['10/', undefined], ['2000000', undefined],
  ])('%j → %j', (text, expected) => {
    expect(parseRateSpec(text)).toEqual(expected);
  });
});

const fallback: RateLimit = { rps: 5, burst: 5 };

describe('rateLimitFor', () => {
  it.each<[string, string[], string[], RateLimitSetting]>([
    ['no entry: the default', ['read/*'], ['read/*'], fallback],
    ['own entry wins over the default', ['rate:50/100'], ['rate:50/100'], { rps: 50, burst: 100 }],
    ['own rate:off exempts the key', ['rate:off'], ['rate:off'], null],
    ['own entry wins over a role\'s', ['role:worker', 'rate:1'], ['rate:100', 'rate:1'], { rps: 1, burst: 1 }],
    ['two own entries: the tightest', ['rate:10', 'rate:3/9'], ['rate:10', 'rate:3/9'], { rps: 3, burst: 9 }],
    ['roles: the most generous', ['role:a', 'role:b'], ['rate:10/10', 'rate:20/40'], { rps: 20, burst: 40 }],
    ['a role with rate:off: unlimited', ['role:a', 'role:b'], ['rate:10/10', 'rate:off'], null],
    ['malformed entries are ignored', ['rate:fast'], ['rate:fast'], fallback],
  ])('%s', (_name, own, effective, expected) => {
    expect(rateLimitFor(own, effective, fallback)).toEqual(expected);
  });
});

describe('limitCovers', () => {
  it.each<[RateLimitSetting, RateLimitSetting, boolean]>([
    [null, null, true],
    [null, { rps: 1000, burst: 1000 }, true],
    [{ rps: 10, burst: 10 }, null, false],
    [{ rps: 10, burst: 10 }, { rps: 10, burst: 10 }, true],
    [{ rps: 10, burst: 10 }, { rps: 5, burst: 20 }, false],
    [{ rps: 10, burst: 10 }, { rps: 20, burst: 5 }, false],
  ])('holder %j may grant %j: %s', (holder, requested, expected) => {
    expect(limitCovers(holder, requested)).toBe(expected);
  });
});

describe('gcra', () => {
  /** Runs requests at the given times (ms) and returns which were allowed and the retry hints. */
  const run = (limit: RateLimit, times: number[]) => {
    let tat: number | undefined;
    return times.map((now) => {
      const r = gcra(tat, now, limit);
      if (r.allowed) tat = r.tat;
      return r.allowed ? 'ok' : `wait ${Math.round(r.retryAfterMs)}`;
    });
  };

  it.each<[string, RateLimit, number[], string[]]>([
    ['1/s, no burst: one a second', { rps: 1, burst: 1 }, [0, 500, 1000, 1999, 2000], ['ok', 'wait 500', 'ok', 'wait 1', 'ok']],
    ['burst of 3 at once, then the rate', { rps: 1, burst: 3 }, [0, 0, 0, 0, 1000, 1000], ['ok', 'ok', 'ok', 'wait 1000', 'ok', 'wait 1000']],
    ['refused requests do not use tokens', { rps: 10, burst: 1 }, [0, 10, 20, 100], ['ok', 'wait 90', 'wait 80', 'ok']],
    ['a quiet spell refills the whole burst, no more', { rps: 2, burst: 2 }, [0, 0, 10_000, 10_000, 10_000], ['ok', 'ok', 'ok', 'ok', 'wait 500']],
    ['sustained at the rate: all allowed', { rps: 4, burst: 1 }, [0, 250, 500, 750, 1000], ['ok', 'ok', 'ok', 'ok', 'ok']],
  ])('%s', (_name, limit, times, expected) => {
    expect(run(limit, times)).toEqual(expected);
  });
});
