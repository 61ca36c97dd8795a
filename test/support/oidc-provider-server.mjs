/**
 * The test OpenID Provider: panva's oidc-provider 9 (OpenID Certified) in a child Node process, because
 * it is ESM-only and Jest's module system cannot load it. Started and driven by oidc-provider.ts over
 * the IPC channel: the first message is the configuration, later ones change users or the key
 * endpoint while it runs. Listens on 127.0.0.1 on an ephemeral port; test use only.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

/** Claims the provider may release, by scope. Claims of users outside these lists are added to `profile`. */
const KNOWN_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['preferred_username', 'name'],
  groups: ['groups'],
};

function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg.toLowerCase()}-${crypto.randomBytes(4).toString('hex')}`, alg, use: 'sig' };
}

function claimsConfig(users) {
  const known = new Set(Object.values(KNOWN_CLAIMS).flat());
  const extra = [...new Set(Object.values(users).flatMap((claims) => Object.keys(claims)))].filter((name) => !known.has(name));
  return { ...KNOWN_CLAIMS, profile: [...KNOWN_CLAIMS.profile, ...extra] };
}

function clientMetadata(config) {
  const web = config.webClients.map((c) => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: c.tokenAuthMethod ?? 'client_secret_basic',
    id_token_signed_response_alg: c.idTokenAlg ?? 'RS256',
  }));
  const machines = config.machineClients.map((c) => ({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    redirect_uris: [],
    response_types: [],
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: c.tokenAuthMethod ?? 'client_secret_basic',
  }));
  return [...web, ...machines];
}

async function start(config) {
  const users = new Map(Object.entries(config.users));
  const machines = new Map(config.machineClients.map((c) => [c.clientId, c]));
  const keys = { RS256: signingKey('rsa', { modulusLength: 2048 }, 'RS256'), ES256: signingKey('ec', { namedCurve: 'P-256' }, 'ES256') };
  const ttl = config.ttl;
  let jwksAvailable = true;
  let handle = (_req, res) => res.writeHead(503).end();

  // The key endpoint can be taken down alone, so a test can see what a verifier does when the
  // issuer's keys cannot be fetched while everything else still answers.
  const server = http.createServer((req, res) => {
    if (!jwksAvailable && req.url?.startsWith('/jwks')) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('key endpoint down (test)');
    handle(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: clientMetadata(config),
    jwks: { keys: [keys.RS256, keys.ES256] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    claims: claimsConfig(config.users),
    conformIdTokenClaims: !config.claimsInIdToken,
    async findAccount(_ctx, sub) {
      if (!users.has(sub)) return undefined;
      // Read at every token and userinfo request, so a changed user shows at the next refresh.
      return { accountId: sub, claims: async () => ({ ...users.get(sub), sub }) };
    },
    pkce: { required: () => true },
    // Refresh tokens for every client allowed the grant, with or without `offline_access`, as
    // Keycloak does; providers that need `offline_access` get it from the relying party's scopes.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    async extraTokenClaims(_ctx, token) {
      if (token.kind !== 'ClientCredentials') return undefined;
      return machines.get(token.clientId)?.extraClaims;
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: config.endSession },
      resourceIndicators: {
        enabled: true,
        // Only machine clients get JWT access tokens for a resource; people's access tokens stay
        // opaque so that the userinfo endpoint accepts them.
        defaultResource: async (_ctx, client, oneOf) => oneOf ?? (machines.has(client.clientId) ? machines.get(client.clientId).audience ?? config.audience : undefined),
        useGrantedResource: async () => false,
        async getResourceServerInfo(_ctx, resource, client) {
          const machine = machines.get(client.clientId);
          if (!machine) throw new errors.InvalidTarget();
          return {
            audience: resource,
            scope: machine.scope ?? 'prefect',
            accessTokenFormat: 'jwt',
            accessTokenTTL: machine.accessTokenTtl ?? ttl.clientCredentials,
            jwt: { sign: { alg: machine.accessTokenAlg ?? 'RS256' } },
          };
        },
      },
    },
    ttl: {
      AccessToken: ttl.accessToken,
      AuthorizationCode: ttl.authorizationCode,
      // A machine client's own lifetime (its resource server's) first.
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.clientCredentials,
      IdToken: ttl.idToken,
      RefreshToken: ttl.refreshToken,
      Grant: ttl.session,
      Session: ttl.session,
      Interaction: ttl.interaction,
    },
  });
  handle = provider.callback();

  const operations = {
    setUser: ({ id, claims }) => void users.set(id, claims),
    removeUser: ({ id }) => void users.delete(id),
    setJwksAvailable: ({ available }) => void (jwksAvailable = available),
  };
  process.on('message', (message) => {
    const operation = operations[message.op];
    if (!operation) return process.send({ seq: message.seq, error: `unknown operation ${message.op}` });
    operation(message);
    process.send({ seq: message.seq });
  });
  // The parent went away (test ended or crashed): never outlive it.
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true, issuer, keys });
}

process.once('message', (config) => {
  start(config).catch((error) => {
    process.send({ failed: String(error?.stack ?? error) });
    process.exit(1);
  });
});
