export { createGraphQLProxy } from './graphql/router';
export type { DialectProxy, GraphQLRouterDeps } from './graphql/router';
export { createUpstream, createUpstreamPool, STRIPPED_REQUEST_HEADERS } from './upstream';
export type { Forward, UpstreamOptions } from './upstream';
export { createRestProxy } from './rest/router';
export type { RestProxyDeps } from './rest/router';
export { attachWebsockets } from './rest/websocket';
export type { WebsocketDeps } from './rest/websocket';
