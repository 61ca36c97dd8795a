/**
 * Every environment variable the service reads, with its default and documentation.
 * The configuration table in docs/configuration.md is checked against this list by a test, so the two cannot drift.
 */
export interface VariableSpec {
  readonly name: string;
  /** Default as the operator would write it; undefined means "unset". */
  readonly default?: string;
  readonly description: string;
  /** A secret may also be read from the file named by `<NAME>_FILE`, and is never logged. */
  readonly secret?: boolean;
}

export const variables: readonly VariableSpec[] = [
  { name: 'API_KIND', default: 'graphql', description: '`graphql` (Prefect 1: every path is GraphQL) or `rest` (Prefect 2/3: REST under `/api`, websockets, web UI).' },
  { name: 'API_SERVICE_URL', default: 'http://127.0.0.1:4200', description: 'Base URL of the Prefect API the proxy forwards to. Request paths are appended to its path.' },
  { name: 'UPSTREAM_AUTH_STRING', secret: true, description: 'REST mode: the Prefect server\'s `PREFECT_SERVER_API_AUTH_STRING`. The proxy sends it upstream in place of the client\'s credential, so users never learn it.' },
  { name: 'PUBLIC_URL', description: 'REST mode: the proxy\'s external base URL (`https://prefect.example.com`), written into `/ui-settings` as the UI\'s API URL. Default: from the request\'s `Host` (and `X-Forwarded-*` when `TRUST_PROXY` allows).' },
  { name: 'HOST', default: '0.0.0.0', description: 'Address to listen on.' },
  { name: 'PORT', default: '3000', description: 'Port to listen on.' },
  { name: 'LOG_LEVEL', default: 'warn', description: '`error`, `warn`, `info` or `debug`.' },
  { name: 'LOG_LEVEL_OVERRIDE_DURATION', default: '300', description: 'Seconds a level set with `POST /logs/:level` lasts before returning to `LOG_LEVEL`.' },
  { name: 'LOG_FORMAT', description: '`json` (one JSON object a line) or `pretty`. Default: `json` when `NODE_ENV=production`, else `pretty`.' },
  { name: 'ALLOW_PUBLIC_ACCESS', default: 'false', description: 'UNSAFE. `true` lets requests without a key through with no permission checks. Requests with a key are still checked.' },
  { name: 'TENANT_ID', default: 'Default', description: 'Tenant id returned by the emulated Prefect 1 `auth_info` / `tenant` queries. Prefect >= 1.0 needs the UUID of a real tenant of the server.' },
  { name: 'TENANT_NAME', default: 'Default', description: 'Tenant name returned by the emulated `tenant` query.' },
  { name: 'TENANT_SLUG', default: 'default', description: 'Tenant slug returned by the emulated `tenant` query.' },
  { name: 'ENV', default: 'NA', description: 'Name of the environment, added to every log line.' },
  { name: 'DB_TYPE', description: '`postgres`, `mysql` (MySQL or MariaDB) or `sqlite`. Default: from `DATABASE_URL` if set, else `postgres` when `DB_HOST` is set, else `sqlite`.' },
  { name: 'DATABASE_URL', secret: true, description: 'Connection URL (`postgres://user:pass@host:5432/db`, `mysql://...`); takes precedence over `DB_HOST` and friends.' },
  { name: 'DB_HOST', description: 'Key store database host.' },
  { name: 'DB_PORT', description: 'Key store database port. Default: 5432 for PostgreSQL, 3306 for MySQL.' },
  { name: 'DB_USER', description: 'Key store database user.' },
  { name: 'DB_PASSWORD', secret: true, description: 'Key store database password.' },
  { name: 'DB_DATABASE', description: 'Key store database name.' },
  { name: 'DB_FILENAME', default: 'data/prefect-auth-proxy.sqlite3', description: 'SQLite file; created with the key table on first start.' },
  { name: 'DB_POOL_MAX', default: '10', description: 'Most connections to the key store database.' },
  { name: 'DB_TIMEOUT', default: '5', description: 'Seconds a key lookup may take before the request gets 503.' },
  { name: 'KEY_CACHE_TTL', default: '1800', description: 'Seconds a key lookup is cached (never beyond the key\'s expiry).' },
  { name: 'KEY_CACHE_NEGATIVE_TTL', default: '10', description: 'Seconds an unknown key is remembered as unknown, so floods of bad keys do not reach the database.' },
  { name: 'KEY_CACHE_MAX', default: '10000', description: 'Most cached keys; the least recently used are evicted first.' },
  { name: 'KEY_CACHE_NEGATIVE_MAX', default: '10000', description: 'Most unknown keys remembered, in a cache of their own so that floods of made-up keys never push valid keys out.' },
  { name: 'BODY_LIMIT', default: '10mb', description: 'Largest request body accepted (`b`, `kb`, `mb` suffixes); larger ones get 413.' },
  { name: 'BODY_TIMEOUT', default: '30', description: 'Seconds a client has to send its whole request body once the headers are in; a slower one gets 408. Bodies are read whole before a request takes a connection to the Prefect API, so slow senders cannot hold those.' },
  { name: 'UPSTREAM_TIMEOUT', default: '120', description: 'Seconds to wait for the Prefect API to answer before 504.' },
  { name: 'OBJECT_CACHE_TTL', default: '5', description: 'REST mode, keys with scopes narrowed to named things (`@`, docs/permissions-on-named-things.md): seconds the proxy trusts what the Prefect server said about a deployment, flow run, work queue, block document or variable it looked up. A change that passes through the proxy is seen at once; one made past it, within this time. `0` asks every time.' },
  { name: 'OBJECT_LOOKUP_TIMEOUT', default: '5', description: 'REST mode: seconds each object lookup at the Prefect server may take; a lookup that fails or takes longer refuses the request (503), never allows it.' },
  { name: 'AUDIT_LOG_VARIABLES', default: 'false', description: 'Add GraphQL variables to audit lines. They may contain secrets: keep `false` unless needed.' },
  { name: 'GRAPHQL_MAX_BATCH', default: '50', description: 'Most operations in one JSON-array batch (the Prefect 1 UI sends up to 25).' },
  { name: 'GRAPHQL_MAX_TOKENS', default: '100000', description: 'Most GraphQL tokens and comments in one request, all documents of a batch counted together; a request over it gets 413 and parsing stops there.' },
  { name: 'CORS_ORIGINS', default: '*', description: 'Origins allowed to call the proxy from a browser: `*` or a comma-separated list. Keys travel in headers, never cookies.' },
  { name: 'ROLES_FILE', description: 'JSON or YAML file of roles (`name: [scopes]`) that override or add to the built-in roles. Validated at start-up.' },
  { name: 'AUDIT_DB', default: 'auto', description: 'Write audit events to the `prefect_audit_log` table: `true`, `false`, or `auto` (when the table exists; always on SQLite).' },
  { name: 'AUDIT_RETENTION_DAYS', default: '90', description: 'Days audit rows are kept; older rows are deleted hourly. `0` keeps them forever.' },
  { name: 'AUDIT_QUEUE_MAX', default: '10000', description: 'Audit events held in memory while the database is slow or down; beyond that new events are dropped and counted.' },
  { name: 'AUDIT_FLUSH_INTERVAL', default: '1000', description: 'Milliseconds between batched audit writes.' },
  { name: 'SHUTDOWN_GRACE_PERIOD', default: '20', description: 'Seconds after SIGTERM to finish in-flight requests and let websockets close before connections are cut. Keep it below the orchestrator\'s kill timeout (Kubernetes `terminationGracePeriodSeconds`).' },
  { name: 'METRICS_PORT', description: 'Serve Prometheus metrics at `/metrics` on this separate port, without a key (keep the port internal). Unset: `/metrics` is on `PORT` and needs a key with `admin/metrics`.' },
  { name: 'METRICS_PER_USER', default: 'false', description: 'Add a per-user request counter. One series per user: enable only when the number of users is modest.' },
  { name: 'REDIS_URL', secret: true, description: 'Redis (`redis://[:password@]host:6379/0`, `rediss://` for TLS) shared by every instance: cache invalidation (when `CACHE_INVALIDATION` picks it) and shared rate limits.' },
  { name: 'CACHE_INVALIDATION', default: 'auto', description: 'A bus that carries key revocations and cache resets to every instance at once, beside the change table (`KEY_CHANGE_POLL_INTERVAL`) that carries them within seconds: `redis`, `postgres` (LISTEN/NOTIFY on the key store), `off`, or `auto` (`redis` when `REDIS_URL` is set, else `postgres` when the key store is PostgreSQL, else `off`).' },
  { name: 'KEY_CHANGE_POLL_INTERVAL', default: '2', description: 'Seconds between reads of the key store\'s change table (`prefect_auth_proxy_changes`, created by `db migrate`; on SQLite at start), through which revocations, key changes and cache resets reach every instance, with or without `CACHE_INVALIDATION`. `0` turns polling off.' },
  { name: 'KEY_USAGE_FLUSH_INTERVAL', default: '60', description: 'Seconds between writes of when keys were last used (`last_used_dt`, shown by `keys list` and on "My access"): uses are gathered in memory and written in one statement per interval, so "last used" is exact to this bound. Needs `db migrate` on a shared key store.' },
  { name: 'RATE_LIMIT', default: 'off', description: 'Default per-key limit: `off`, `<requests per second>`, or `<rps>/<burst>` (e.g. `20/40`; burst defaults to the rate). A key\'s own `rate:<rps>/<burst>` scope, or the most generous one among its roles, takes precedence; `rate:off` exempts a key.' },
  { name: 'SIGN_IN', default: 'off', description: 'Sessions for people in the Prefect web UIs (docs/single-sign-on.md): `off`, `key` (a sign-in page on the proxy where a person pastes an API key), `oidc` (sign in with the identity provider), or `key,oidc`. Needs an https `PUBLIC_URL` (plain http only on localhost). Keys in headers keep working everywhere.' },
  { name: 'SESSION_LIFETIME', default: '43200', description: 'Seconds a session lasts at most, however active; then the person signs in again.' },
  { name: 'SESSION_IDLE_TIMEOUT', default: '3600', description: 'Seconds without a request after which a session ends.' },
  { name: 'SESSION_GROUP_REFRESH_INTERVAL', default: '300', description: 'Seconds between reads of a signed-in person\'s groups from the identity provider (with the refresh token): removing someone from a group, or from the provider, takes effect within this bound on every instance. A refresh the provider refuses ends the session.' },
  { name: 'SESSION_SECRET', secret: true, description: 'At least 32 random characters; required with `SIGN_IN=oidc`. Seals (AES-256-GCM) the provider\'s refresh and ID tokens in the session table; changing it makes people sign in again.' },
  { name: 'OIDC_ISSUER_URL', description: 'The identity provider\'s issuer URL, exactly as the provider writes it (`https://login.example.com/realms/prefect`). Discovery reads `<issuer>/.well-known/openid-configuration`; an issuer that cannot be reached keeps `/readyz` failing and sign-in answering 503, never lets anyone in. https only (plain http only on a loopback address).' },
  { name: 'OIDC_CLIENT_ID', description: 'The proxy\'s client id at the identity provider. Register the redirect URI `<PUBLIC_URL>/auth/callback` and the post-logout redirect URI `<PUBLIC_URL>/auth/login`.' },
  { name: 'OIDC_CLIENT_SECRET', secret: true, description: 'The client secret (a confidential client).' },
  { name: 'OIDC_TOKEN_AUTH_METHOD', default: 'client_secret_basic', description: 'How the proxy authenticates at the token endpoint: `client_secret_basic` or `client_secret_post`, as the client is set up at the provider.' },
  { name: 'OIDC_SCOPES', default: 'openid email profile', description: 'Space-separated scopes asked at sign-in. Add `groups` where the provider releases groups by scope, `offline_access` where a refresh token needs it (Okta, Entra ID).' },
  { name: 'OIDC_USER_CLAIM', default: 'email', description: 'Claim that names the person in sessions and audit rows; `preferred_username`, then `sub`, when it is absent. An `email` the provider marks unverified is never used.' },
  { name: 'OIDC_GROUPS_CLAIM', default: 'groups', description: 'Claim holding the person\'s groups: a list, or a space- or comma-separated string; a dotted path reaches nested claims (`realm_access.roles`). Read from the ID token, else from userinfo.' },
  { name: 'OIDC_GROUP_ROLES', description: 'Required with `SIGN_IN=oidc`: which proxy roles each group gives, as JSON: `{"prefect-admins": "owner", "prefect-devs": ["developer"]}`. Group names match exactly; an unknown role stops start-up. A person whose groups give no role is refused with a page that says so.' },
  { name: 'OIDC_ALLOWED_GROUPS', description: 'Only members of one of these groups may sign in: a JSON array, or a comma-separated list. Unset: anyone whose groups give a role.' },
  { name: 'OIDC_TIMEOUT', default: '10', description: 'Seconds each request to the identity provider may take.' },
  { name: 'SELF_SERVICE_KEYS', default: 'true', description: 'With `SIGN_IN=oidc`: people signed in through the identity provider may make and revoke their own API keys on `/auth/access` ("My access", docs/my-access.md), never with more than their roles.' },
  { name: 'SELF_SERVICE_KEY_MAX_LIFETIME', default: '7776000', description: 'Seconds a key made on "My access" may live at most (default 90 days); the page offers lifetimes up to this.' },
  { name: 'SELF_SERVICE_MAX_KEYS', default: '10', description: 'Live keys one person may hold on "My access" at once.' },
  { name: 'TRUSTED_ISSUERS_FILE', description: 'JSON or YAML file of token issuers whose signed tokens (JWTs) are accepted in place of a key: Kubernetes service-account tokens, GitHub Actions, client-credentials tokens (docs/machine-identity.md). Each names the issuer, the accepted audiences and which claims give which roles. Validated at start-up.' },
  { name: 'TRUSTED_ISSUERS_TIMEOUT', default: '5', description: 'Seconds each request for a trusted issuer\'s metadata or keys may take.' },
  { name: 'TRUST_PROXY', default: 'false', description: 'Which proxies in front may set `X-Forwarded-*`: `false`, `true`, a hop count, or a list of trusted addresses/subnets. Trusted values give the client address in audit lines and are extended for the Prefect API; from anyone else they are replaced.' },
];

export const variableNames: ReadonlySet<string> = new Set(variables.map((v) => v.name));
