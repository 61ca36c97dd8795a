import { isGroupCheckDue, isSessionLive, sessionState } from '../../../src/sessions';

const NOW = 1_700_000_000_000;
const MIN = 60_000;
const IDLE = 30 * MIN;

const session = (o: { endedAt?: number | null; expiresAt?: number; lastSeenAt?: number }) => ({
  endedAt: o.endedAt ?? null,
  expiresAt: o.expiresAt ?? NOW + 60 * MIN,
  lastSeenAt: o.lastSeenAt ?? NOW - MIN,
});

describe('sessionState', () => {
  it.each([
    ['fresh and recently seen', {}, 'live'],
    ['seen just under the idle timeout ago', { lastSeenAt: NOW - IDLE + 1 }, 'live'],
    ['seen exactly the idle timeout ago', { lastSeenAt: NOW - IDLE }, 'idle'],
    ['seen long ago', { lastSeenAt: NOW - 10 * IDLE }, 'idle'],
    ['expiring in a millisecond', { expiresAt: NOW + 1 }, 'live'],
    ['expiring exactly now', { expiresAt: NOW }, 'expired'],
    ['expired an hour ago', { expiresAt: NOW - 60 * MIN }, 'expired'],
    ['expired and idle: expiry is named', { expiresAt: NOW - 1, lastSeenAt: NOW - 10 * IDLE }, 'expired'],
    ['ended but otherwise live', { endedAt: NOW - 1 }, 'ended'],
    ['ended, expired and idle: the end is named', { endedAt: NOW - 1, expiresAt: NOW - 1, lastSeenAt: NOW - 10 * IDLE }, 'ended'],
    ['an expiry that is not a number (damaged row)', { expiresAt: Number.NaN }, 'expired'],
    ['a last-seen time that is not a number', { lastSeenAt: Number.NaN }, 'idle'],
    ['seen in the future (another instance\'s clock ahead)', { lastSeenAt: NOW + 5000 }, 'live'],
  ] as const)('%s: %s', (_name, times, expected) => {
    expect(sessionState(session(times), NOW, IDLE)).toBe(expected);
    expect(isSessionLive(session(times), NOW, IDLE)).toBe(expected === 'live');
  });
});

describe('isGroupCheckDue', () => {
  it.each([
    ['checked just now', NOW, false],
    ['checked just under the interval ago', NOW - 5 * MIN + 1, false],
    ['checked exactly the interval ago', NOW - 5 * MIN, true],
    ['checked long ago', NOW - 60 * MIN, true],
    ['never readable', Number.NaN, true],
  ])('%s', (_name, groupsCheckedAt, expected) => {
    expect(isGroupCheckDue({ groupsCheckedAt }, NOW, 5 * MIN)).toBe(expected);
  });
});
