export { discardUnreadBody, hasBody, isJsonContentType, readBody, readJsonBody } from './body';
export { bodyErrorHandler, errorBody, fromBodyParserError, graphqlError, ProxyError, sendError, sendJson } from './errors';
export type { Dialect, ErrorCode } from './errors';
export { auditFinishedRequest, recordDecision } from './request-audit';
export { beginRequest, clientOrigin, compileTrust, pathOfTarget, readOrigin, scopeOf } from './request-scope';
export type { RequestOrigin, RequestScope, TrustFunction } from './request-scope';
export { logRequestOnFinish } from './request-log';
export { guardEmitter, guardServer, refuseUpgrade } from './socket-guard';
