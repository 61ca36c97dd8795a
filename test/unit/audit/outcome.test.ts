import { finalOutcome, outcomeOfClose } from '../../../src/audit';

describe('one outcome vocabulary for audit and metrics', () => {
  it.each([
    // [decided, status, forwarded, upstream failed, recorded]
    ['ALLOWED', 200, true, false, 'ALLOWED'],
    ['ALLOWED', 404, true, false, 'ALLOWED'],
    ['ALLOWED', 502, true, true, 'ERROR'],
    ['ALLOWED', 504, true, true, 'ERROR'],
    ['ALLOWED', 0, true, false, 'ERROR'],
    ['ALLOWED', 200, false, false, 'ALLOWED'],
    ['BLOCKED', 403, false, false, 'BLOCKED'],
    ['BLOCKED', 429, false, false, 'BLOCKED'],
    ['BLOCKED', 0, false, false, 'BLOCKED'],
  ] as const)('%s with %i (forwarded %s, upstream failed %s) is recorded %s', (decided, status, forwarded, failed, expected) => {
    expect(finalOutcome(decided, status, forwarded, failed)).toBe(expected);
  });

  it.each([
    [101, 'allowed'], [1008, 'denied'], [1013, 'denied'], [1002, 'denied'], [1007, 'denied'], [1009, 'denied'],
    [1011, 'error'], [1000, 'error'], [1001, 'error'],
  ])('a websocket closed with %i is %s', (code, expected) => {
    expect(outcomeOfClose(code)).toBe(expected);
  });
});
