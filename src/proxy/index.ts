export { createGraphQLProxy } from './graphql/router';
export type { GraphQLProxy, GraphQLRouterDeps } from './graphql/router';
export { createUpstream, STRIPPED_REQUEST_HEADERS } from './upstream';
export type { Upstream, UpstreamOptions } from './upstream';
export { createRestProxy, API_PREFIX } from './rest/router';
export type { RestProxy, RestProxyDeps } from './rest/router';
