export { authenticate, createAuthenticator } from './authenticate';
export type { AuthenticateOptions } from './authenticate';
export { bodyErrorHandler, errorBody, fromBodyParserError, graphqlError, ProxyError, sendError, sendJson } from './errors';
export type { Dialect, ErrorCode } from './errors';
export { beginRequest, compileTrust, scopeOf } from './request-scope';
export type { BatchSplice, RequestScope } from './request-scope';
export { logRequestOnFinish } from './request-log';
