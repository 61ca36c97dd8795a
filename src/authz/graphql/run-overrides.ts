import type { FieldNode, FragmentDefinitionNode, SelectionSetNode, ValueNode } from 'graphql';
import { Kind } from 'graphql';
import type { Permission } from '../scopes';
import type { DocumentInfo, OperationInfo } from './analyze-document';

/**
 * Prefect 1 agents run what a flow run's `run_config` says (image, env, a Kubernetes job template):
 * giving a run its own is deploying, not running. Not below `mutation/create_flow_run`, which
 * would then cover it.
 */
export const RUN_CONFIG_PERMISSION: Permission = ['mutation', 'create_flow_run.run_config'];

/** Extra permissions an operation needs for the values it sends, on top of its root fields. */
export function valuePermissions(info: DocumentInfo, operation: OperationInfo, variables: unknown): Permission[] {
  if (operation.type !== 'mutation' || !operation.rootFields.includes('create_flow_run')) return [];
  const values = readVariables(variables);
  const defaults = new Map<string, ValueNode>();
  for (const definition of operation.node.variableDefinitions ?? []) {
    if (definition.defaultValue) defaults.set(definition.variable.name.value, definition.defaultValue);
  }
  const resolve = (name: string): unknown => {
    if (values === UNREADABLE) return LITERAL;
    if (values !== undefined && Object.prototype.hasOwnProperty.call(values, name)) return values[name];
    return defaults.has(name) ? LITERAL : undefined;
  };
  const overrides = rootFields(operation.node.selectionSet, info.fragments)
    .filter((field) => field.name.value === 'create_flow_run')
    .some((field) => inputSetsRunConfig(field, resolve));
  return overrides ? [RUN_CONFIG_PERMISSION] : [];
}

/** A variable whose value is a default written in the document: read as setting everything. */
const LITERAL = Symbol('default value');
/** Variables the proxy cannot read: read as setting everything. */
const UNREADABLE: Record<string, unknown> = Object.freeze({});

function inputSetsRunConfig(field: FieldNode, resolve: (name: string) => unknown): boolean {
  const input = field.arguments?.find((a) => a.name.value === 'input')?.value;
  if (!input) return false;
  if (input.kind === Kind.VARIABLE) {
    const value = resolve(input.name.value);
    if (value === LITERAL) return true;
    return isObject(value) && value.run_config !== undefined && value.run_config !== null;
  }
  if (input.kind !== Kind.OBJECT) return false;
  return input.fields.some((f) => {
    if (f.name.value !== 'run_config') return false;
    if (f.value.kind === Kind.NULL) return false;
    if (f.value.kind !== Kind.VARIABLE) return true;
    const value = resolve(f.value.name.value);
    return value !== undefined && value !== null;
  });
}

/** Root fields through fragments; cycles and unknown fragments were refused by analyzeDocument. */
function rootFields(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen = new Set<string>()): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fields.push(...rootFields(selection.selectionSet, fragments, seen));
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) fields.push(...rootFields(fragment.selectionSet, fragments, seen));
    }
  }
  return fields;
}

/** Variables as sent: an object, null, or (Prefect 1's client) a JSON string of one. */
function readVariables(variables: unknown): Record<string, unknown> | undefined {
  if (variables === undefined || variables === null) return undefined;
  if (typeof variables === 'string') {
    try {
      return readVariables(JSON.parse(variables));
    } catch {
      return UNREADABLE;
    }
  }
  return isObject(variables) ? variables : UNREADABLE;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
