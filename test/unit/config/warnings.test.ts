import { parseConfig } from '../../../src/config';

const TENANT = '0c7ad9c0-5f8a-4a3e-9b7e-7f2d4c1e9a10';
const REST = { API_KIND: 'rest', UPSTREAM_AUTH_STRING: 'server-secret' };

describe('start-up warnings', () => {
  it.each<[string, NodeJS.ProcessEnv, string[]]>([
    // Defaults warn about nothing: a warning on every start is one nobody reads.
    ['nothing set (Prefect 1 mode)', {}, []],
    ['Prefect 1 with its tenant', { TENANT_ID: TENANT }, []],
    ['Prefect 1, tenant set but not a UUID', { TENANT_ID: 'Default' }, ['TENANT_ID "Default" is not a UUID']],
    ['Prefect 1, public access on', { ALLOW_PUBLIC_ACCESS: 'true' }, ['ALLOW_PUBLIC_ACCESS is true']],
    ['Prefect 1 with a REST-only variable (API_KIND forgotten?)', { UPSTREAM_AUTH_STRING: 's' }, ['UPSTREAM_AUTH_STRING only apply with API_KIND=rest']],
    ['Prefect 1 with both REST-only variables', { UPSTREAM_AUTH_STRING_FILE: '/dev/null', PUBLIC_URL: 'https://p.example.com' }, ['UPSTREAM_AUTH_STRING and PUBLIC_URL only apply with API_KIND=rest']],
    ['REST with the server string', REST, []],
    ['REST with the server string from a file', { API_KIND: 'rest', UPSTREAM_AUTH_STRING_FILE: __filename }, []],
    ['REST without the server string: the server is open to anyone reaching it', { API_KIND: 'rest' }, ['UPSTREAM_AUTH_STRING is not set: anyone who reaches the Prefect server']],
    // TENANT_* are Prefect 1 settings: REST mode never mentions them.
    ['REST with a non-UUID tenant', { ...REST, TENANT_ID: 'Default' }, []],
    ['REST, public access on', { ...REST, ALLOW_PUBLIC_ACCESS: 'true' }, ['ALLOW_PUBLIC_ACCESS is true']],
  ])('%s', (_name, env, expected) => {
    const { warnings } = parseConfig(env);
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((text, i) => expect(warnings[i]).toContain(text));
  });

  it('the REST warning tells a Prefect 3 and a Prefect 2 operator what to do', () => {
    const [warning] = parseConfig({ API_KIND: 'rest' }).warnings;
    expect(warning).toContain('PREFECT_SERVER_API_AUTH_STRING');
    expect(warning).toContain('Prefect 2 servers have no such setting');
  });
});
