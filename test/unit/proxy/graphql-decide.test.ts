import { buildRoleTable, compileScopes, expandRoles } from '../../../src/authz';
import { createDocumentCache } from '../../../src/authz/graphql';
import { parseConfig } from '../../../src/config';
import type { Principal } from '../../../src/keys';
import { auditPolicy } from '../../../src/audit';
import { authorizeGraphQL } from '../../../src/proxy';

const roles = buildRoleTable();
const as = (role: string): Principal => {
  const effectiveScopes = expandRoles([`role:${role}`], roles).scopes;
  return { userId: role, scopeList: [`role:${role}`], effectiveScopes, scopes: compileScopes(effectiveScopes), keyId: 'k', rateLimit: null };
};
const { config } = parseConfig({ TENANT_ID: '2b9d0c55-0f49-4ac2-9a5f-6a1f0e5c1d11' });
const authorize = authorizeGraphQL({ config, documents: createDocumentCache(config.graphql.maxTokens) });

/** body → decision → what is forwarded or answered, and what is audited, without a socket. */
function run(role: string, body: unknown) {
  const d = authorize(as(role), body);
  return {
    kind: d.kind,
    status: d.kind === 'refuse' ? d.error.status : d.kind === 'answer' ? d.status : 200,
    forwards: d.kind === 'forward' ? JSON.parse(d.body.toString()) as unknown : null,
    spliced: d.kind === 'forward' && d.splice !== undefined,
    audit: auditPolicy({ dialect: 'graphql', method: 'POST', target: '/', decided: d.decided }).records.map((a) => `${a.outcome} ${a.permissions.join(',')}`),
  };
}

const q = (query: string, extra: Record<string, unknown> = {}) => ({ query, ...extra });

describe('GraphQL requests, decided without sockets', () => {
  it.each([
    ['a query is forwarded as checked, not audited', 'viewer', q('{ flow { id } }', { extensions: { x: 1 } }), { kind: 'forward', forwards: { query: '{ flow { id } }' }, audit: [] }],
    ['an allowed mutation is audited', 'runner', q('mutation { create_flow_run(input: {flow_id: "f"}) { id } }'), { kind: 'forward', audit: ['ALLOWED mutation/create_flow_run'] }],
    ['a denied mutation is refused and audited', 'viewer', q('mutation { delete_project(input: {project_id: "p"}) { success } }'), { kind: 'refuse', status: 403, audit: ['BLOCKED mutation/delete_project'] }],
    ['a run_config from a runner is refused', 'runner', q('mutation { create_flow_run(input: {flow_id: "f", run_config: {}}) { id } }'), { kind: 'refuse', status: 403, audit: ['BLOCKED mutation/create_flow_run.run_config'] }],
    ['the Cloud login is answered by the proxy', 'viewer', q('{ auth_info { tenant_id } }'), { kind: 'answer', status: 200, audit: [] }],
    ['a malformed document is refused', 'viewer', q('{ flow { '), { kind: 'refuse', status: 400, audit: [] }],
    ['a batch partly denied is spliced', 'viewer', [q('{ flow { id } }'), q('mutation { delete_flow(input: {flow_id: "f"}) { success } }')], { kind: 'forward', spliced: true, forwards: [{ query: '{ flow { id } }' }], audit: ['BLOCKED mutation/delete_flow'] }],
    ['a batch wholly denied is answered 403', 'viewer', [q('mutation { delete_flow(input: {flow_id: "f"}) { success } }')], { kind: 'answer', status: 403 }],
    ['a batch with a malformed item and nothing to forward is answered 400', 'viewer', [{ query: 3 }], { kind: 'answer', status: 400 }],
  ])('%s', (_what, role, body, expected) => {
    expect(run(role, body)).toMatchObject(expected);
  });
});
