export { analyzeDocument, InvalidDocumentError, TokenLimitError } from './analyze-document';
export type { DocumentInfo, OperationInfo, OperationType } from './analyze-document';
export { decideDocument, isCloudAuthDocument } from './decide';
export type { DocumentDecision, OperationDecision } from './decide';
export { parseGraphQLBody, toForwardedItem } from './parse-body';
export type { GraphQLRequestItem, GraphQLBody } from './parse-body';
export { createDocumentCache } from './document-cache';
export type { DocumentCache } from './document-cache';
export { RUN_CONFIG_PERMISSION, valuePermissions } from './run-overrides';
