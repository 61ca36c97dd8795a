export { authenticate } from './authenticate';
export type { AuthenticateOptions } from './authenticate';
export { bodyErrorHandler, errorBody, fromBodyParserError, graphqlError, ProxyError, sendError } from './errors';
export type { Dialect, ErrorCode } from './errors';
export { requestContext, scopeOf } from './request-scope';
export type { BatchSplice, RequestScope } from './request-scope';
export { requestLog } from './request-log';
