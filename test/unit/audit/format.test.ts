import { formatCsv, parseTime } from '../../../src/audit';

describe('formatCsv', () => {
  it('quotes, escapes and neutralizes formulas', () => {
    const csv = formatCsv([{ a: 'x,y', b: 'say "hi"' }, { a: '=HYPERLINK("evil")', b: null }], ['a', 'b']);
    expect(csv).toBe('a,b\r\n"x,y","say ""hi"""\r\n"\'=HYPERLINK(""evil"")",\r\n');
  });
});

describe('parseTime', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  it.each([
    ['24h', '2026-11-21T12:00:00.000Z'],
    ['7d', '2026-11-15T12:00:00.000Z'],
    ['2026-11-01', '2026-11-01T00:00:00.000Z'],
    ['2026-11-01T10:00:00+02:00', '2026-11-01T08:00:00.000Z'],
  ])('%s', (text, iso) => {
    expect(parseTime(text, now)?.toISOString()).toBe(iso);
  });
  it.each(['yesterday', '5x', ''])('refuses %j', (text) => {
    expect(parseTime(text, now)).toBeUndefined();
  });
});
