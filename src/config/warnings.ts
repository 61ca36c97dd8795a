import type { Config } from './types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Variables only the REST mode (Prefect 2/3) reads. */
const REST_ONLY = ['UPSTREAM_AUTH_STRING', 'PUBLIC_URL'];

/**
 * Legal but risky settings, logged once at start-up. Only what matters for the chosen API
 * generation, and nothing for a value left at its default: a warning on every start is one
 * nobody reads.
 */
export function configWarnings(config: Config, env: NodeJS.ProcessEnv): string[] {
  const isSet = (name: string) => (env[name] ?? '').trim() !== '' || (env[`${name}_FILE`] ?? '').trim() !== '';
  const warnings: string[] = [];
  if (config.allowPublicAccess) {
    warnings.push('ALLOW_PUBLIC_ACCESS is true: requests without a key reach the Prefect API unchecked');
  }
  if (config.apiKind === 'rest') {
    if (config.upstreamAuthString === undefined) {
      warnings.push('UPSTREAM_AUTH_STRING is not set: anyone who reaches the Prefect server without going through the proxy '
        + 'uses it with no key. Prefect 3: start the server with PREFECT_SERVER_API_AUTH_STRING and set the same string '
        + 'here. Prefect 2 servers have no such setting: keep the server reachable only by the proxy');
    }
    return warnings;
  }
  if (isSet('TENANT_ID') && !UUID.test(config.tenant.id)) {
    warnings.push(`TENANT_ID "${config.tenant.id}" is not a UUID: Prefect >= 1.0 clients reject it at \`prefect auth login\``);
  }
  const restOnly = REST_ONLY.filter(isSet);
  if (restOnly.length > 0) {
    warnings.push(`${restOnly.join(' and ')} only apply with API_KIND=rest (Prefect 2/3), and API_KIND is graphql (Prefect 1): `
      + 'set API_KIND=rest to proxy a Prefect 2 or 3 server');
  }
  return warnings;
}
