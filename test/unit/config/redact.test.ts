import { REDACTED, redactValue } from '../../../src/config';

describe('redactValue', () => {
  it.each([
    // [value, secret, printed]
    ['graphql', false, 'graphql'],
    ['http://127.0.0.1:4200', false, 'http://127.0.0.1:4200'],
    ['', true, ''],
    ['upstream-secret-1', true, REDACTED],
    ['user:pass', true, REDACTED],
    ['postgres://proxy:s3cret@db:5432/keys', true, 'postgres://proxy:***@db:5432/keys'],
    ['mysql://proxy:p%40ss%2Fw@db/keys', true, 'mysql://proxy:***@db/keys'],
    ['postgres://db:5432/keys', true, 'postgres://db:5432/keys'],
    ['postgres://db/keys?sslmode=require&password=hunter22', true, 'postgres://db/keys?sslmode=***&password=***'],
    ['redis://:redispw@cache:6379/0', true, 'redis://:***@cache:6379/0'],
    ['rediss://default:redispw@cache:6380', true, 'rediss://default:***@cache:6380'],
    ['redis://redispw@cache:6379', true, REDACTED],
    ['redis://cache:6379#frag', true, 'redis://cache:6379#***'],
    ['postgres://samepw:samepw@db/keys', true, REDACTED],
    ['postgres://user:pw@db/pw-in-path', true, REDACTED],
    ['http://user:apipw@prefect:4200/api', false, 'http://user:***@prefect:4200/api'],
    ['http://prefect:4200/api?token=kept', false, 'http://prefect:4200/api?token=kept'],
    ['postgres://user:pw@[bad/db', true, REDACTED],
    ['http://user:pw@[bad', false, REDACTED],
    ['http://[bad', false, 'http://[bad'],
  ])('%j (secret: %s) prints as %j', (value, secret, printed) => {
    expect(redactValue(value, secret)).toBe(printed);
  });

  it.each([
    ['postgres://proxy:Very-Long-Password-123@db/keys', 'Very-Long-Password-123'],
    ['postgres://db/keys?password=Very-Long-Password-123', 'Very-Long-Password-123'],
    ['Very-Long-Password-123', 'Very-Long-Password-123'],
  ])('never prints a part of the secret in %j', (value, password) => {
    const printed = redactValue(value, true);
    for (let n = 3; n <= password.length; n += 1) expect(printed).not.toContain(password.slice(0, n));
  });
});
