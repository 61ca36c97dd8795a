import { PassThrough } from 'node:stream';
import { createLogger, redact, redactText } from '../../../src/log';

describe('redact', () => {
  it.each([
    ['Authorization: Bearer abc.def-123', 'Authorization: Bearer [REDACTED]'],
    ['basic dXNlcjprZXk=', 'basic [REDACTED]'],
    ['postgres://app:s3cret@db:5432/keys', 'postgres://app:[REDACTED]@db:5432/keys'],
    ['stored sha256:9f86d081884c7d659a2feaa0c55ad015a3bf', 'stored sha256:[REDACTED]'],
    ['key pap_Nn8BqBx4E4xNqj_XgAJpKj90s9rbvJADx1MBfWeU failed', 'key pap_[REDACTED] failed'],
    ['nothing secret here', 'nothing secret here'],
  ])('text %j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('redacts sensitive members at any depth', () => {
    expect(redact({
      headers: { authorization: 'Bearer x', 'x-prefect-user-id': 'k', accept: 'json' },
      db: { password: 'p', host: 'h' },
      list: [{ api_key: 'k' }, { apiKey: 'k2' }],
    })).toEqual({
      headers: { authorization: '[REDACTED]', 'x-prefect-user-id': '[REDACTED]', accept: 'json' },
      db: { password: '[REDACTED]', host: 'h' },
      list: [{ api_key: '[REDACTED]' }, { apiKey: '[REDACTED]' }],
    });
  });

  it.each(['debug', 'info'] as const)('keeps keys out of log lines at %s level', async (level) => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const logger = createLogger({ level, format: 'json', env: 'test', stream });
    logger.debug('headers', { headers: { authorization: 'Bearer SECRET-KEY-1', 'x-prefect-user-id': 'SECRET-KEY-2' } });
    logger.info('Authorization: Bearer SECRET-KEY-3 was sent', { password: 'SECRET-PW' });
    await new Promise((r) => setImmediate(r));
    const out = chunks.join('');
    expect(out).toContain('[REDACTED]');
    expect(out).not.toMatch(/SECRET-(KEY|PW)/);
  });
});
