import type { CompiledScopes, Permission } from '../scopes';
import { isAllowed } from '../scopes';
import type { DocumentInfo, OperationInfo } from './analyze-document';

export interface OperationDecision {
  readonly operation: OperationInfo;
  /** Permissions this operation needs that the key lacks; empty when allowed. */
  readonly missing: readonly string[];
}

export interface DocumentDecision {
  readonly allowed: boolean;
  readonly operations: readonly OperationDecision[];
}

/** `__typename` at the root reveals only the root type's name: it needs no permission. */
const FREE_FIELDS = new Set(['__typename']);

export function fieldPermission(operation: OperationInfo, field: string): Permission {
  return [operation.type, field];
}

/**
 * Every operation of the document must be allowed, whatever `operationName` says: the proxy does not
 * execute the document, so it cannot be sure which operation the upstream will pick.
 */
export function decideDocument(
  info: DocumentInfo,
  scopes: CompiledScopes,
  /** Permissions an operation needs for what it sends (its variables), beyond its root fields. */
  extra: (operation: OperationInfo) => readonly Permission[] = () => [],
): DocumentDecision {
  const operations = info.operations.map((operation): OperationDecision => {
    const missing: string[] = [];
    for (const field of operation.rootFields) {
      if (FREE_FIELDS.has(field)) continue;
      const permission = fieldPermission(operation, field);
      if (!isAllowed(scopes, permission)) missing.push(permission.join('/'));
    }
    for (const permission of extra(operation)) {
      if (!isAllowed(scopes, permission)) missing.push(permission.join('/'));
    }
    return { operation, missing };
  });
  return { allowed: operations.every((o) => o.missing.length === 0), operations };
}

const CLOUD_FIELDS = new Set(['auth_info', 'tenant', '__typename']);

/**
 * Prefect 1's `prefect auth login` asks Prefect Cloud for `auth_info` and `tenant`, which a
 * self-hosted server does not have. A document that asks only for those is answered by the proxy.
 */
export function isCloudAuthDocument(info: DocumentInfo): boolean {
  return info.operations.every(
    (op) => op.type === 'query' && op.rootFields.every((f) => CLOUD_FIELDS.has(f)) &&
      op.rootFields.some((f) => f !== '__typename'),
  );
}
