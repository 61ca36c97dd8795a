import type { FieldNode, FragmentDefinitionNode, SelectionSetNode } from 'graphql';
import { Kind } from 'graphql';
import type { DocumentInfo } from '../../authz/graphql';
import { InvalidDocumentError } from '../../authz/graphql';

export interface CloudIdentity {
  readonly tenant: { readonly id: string; readonly name: string; readonly slug: string };
  readonly userId: string | null;
}

/**
 * Answers the Prefect Cloud-only `auth_info` and `tenant` queries that `prefect auth login -k`
 * sends, as a one-tenant Cloud would. Arguments (`where`, `order_by`) are ignored: there is one tenant.
 */
export function answerCloudAuth(info: DocumentInfo, operationName: string | null, identity: CloudIdentity): unknown {
  const operation = operationName === null
    ? (info.operations.length === 1 ? info.operations[0] : undefined)
    : info.operations.find((op) => op.name === operationName);
  if (!operation) {
    throw new InvalidDocumentError(operationName === null
      ? 'the document has several operations: name one with "operationName"'
      : `unknown operation "${operationName}"`);
  }
  const tenant: Record<string, unknown> = { __typename: 'tenant', ...identity.tenant };
  const authInfo: Record<string, unknown> = {
    __typename: 'auth_info',
    tenant_id: identity.tenant.id,
    user_id: identity.userId,
  };
  const data: Record<string, unknown> = {};
  for (const field of collectFields(operation.node.selectionSet, info.fragments)) {
    const key = field.alias?.value ?? field.name.value;
    if (field.name.value === 'auth_info') data[key] = project(authInfo, field, info.fragments);
    else if (field.name.value === 'tenant') data[key] = [project(tenant, field, info.fragments)];
    else data[key] = 'Query';
  }
  return { data };
}

function project(source: Record<string, unknown>, field: FieldNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): unknown {
  if (!field.selectionSet) return null;
  const out: Record<string, unknown> = {};
  for (const sub of collectFields(field.selectionSet, fragments)) {
    out[sub.alias?.value ?? sub.name.value] = source[sub.name.value] ?? null;
  }
  return out;
}

/** Fields of a selection set with fragments flattened; fragment names were checked by analyzeDocument. */
function collectFields(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen = new Set<string>()): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fields.push(...collectFields(selection.selectionSet, fragments, seen));
    else {
      const fragment = fragments.get(selection.name.value);
      if (fragment && !seen.has(fragment.name.value)) {
        seen.add(fragment.name.value);
        fields.push(...collectFields(fragment.selectionSet, fragments, seen));
      }
    }
  }
  return fields;
}
