import { buildRoleTable, compileScopes, expandRoles } from '../../../src/authz';
import { ProxyError } from '../../../src/http';
import type { Principal } from '../../../src/keys';
import { auditPolicy } from '../../../src/audit';
import { classifyRestRequest, classifySocketRequest, decideRest, decideSocket, inspectBody } from '../../../src/proxy';

const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
const roles = buildRoleTable();
const as = (role: string): Principal => {
  const effectiveScopes = expandRoles([`role:${role}`], roles).scopes;
  return { userId: role, scopeList: [`role:${role}`], effectiveScopes, scopes: compileScopes(effectiveScopes), keyId: 'k', rateLimit: null };
};

/** What the audit policy keeps of the decided operations, as one line (null: nothing). */
function auditOf(method: string, decided: Parameters<typeof auditPolicy>[0]['decided']): string | null {
  const [record] = auditPolicy({ dialect: 'rest', method, target: '', decided }).records;
  return record ? `${record.outcome} ${record.permissions.join(',')}` : null;
}

/** request → classification → decision → what is forwarded and what is audited, without a socket. */
function run(method: string, url: string, role: string | null, body?: string) {
  const local = classifyRestRequest(method, url, ['api']);
  if (local instanceof ProxyError) return { refused: local.status, message: local.message };
  if (body !== undefined) inspectBody(local, Buffer.from(body));
  const decision = decideRest(method, local, role === null ? null : as(role));
  return {
    route: local.route,
    forwards: decision.refusal ? null : local.forwardPath,
    refused: decision.refusal?.status ?? null,
    audit: auditOf(method, decision.decided),
  };
}

describe('REST requests, decided without sockets', () => {
  it.each([
    // [method, url, role, body, expected]
    ['GET', `/api/flows/${ID}`, 'viewer', undefined, { route: '/flows/{id:uuid}', forwards: `/api/flows/${ID}`, refused: null, audit: null }],
    ['POST', '/api/flows/filter', 'viewer', '{}', { route: '/flows/filter', forwards: '/api/flows/filter', refused: null, audit: null }],
    ['POST', '/api/variables/', 'viewer', '{"name":"x"}', { refused: 403, audit: 'BLOCKED write/variables/create', forwards: null }],
    ['POST', '/api/variables/', 'developer', '{"name":"x"}', { refused: null, audit: 'ALLOWED write/variables/create', forwards: '/api/variables/' }],
    ['POST', `/api/deployments/${ID}/create_flow_run`, 'runner', '{"job_variables":{"command":"id"}}', { refused: 403, audit: 'BLOCKED write/flow_runs/job_variables' }],
    ['POST', `/api/deployments/${ID}/create_flow_run`, 'runner', '{"job_variables":null}', { refused: null, audit: 'ALLOWED write/deployments/create_flow_run' }],
    ['POST', `/api/flow_runs/${ID}/set_state`, 'runner', '{"state":{"type":"COMPLETED"}}', { refused: 403, audit: 'BLOCKED write/flow_runs/set_state/completed' }],
    ['GET', '/api/block_documents/?include_secrets=true', 'viewer', undefined, { refused: 403, audit: 'BLOCKED secret/block_documents' }],
    ['GET', '/api/fl%6fws/filter', 'viewer', undefined, { route: 'unmatched', forwards: '/api/flows/filter' }],
    ['GET', '/API/admin/settings', 'viewer', undefined, { forwards: '/API/admin/settings', refused: null }],
    ['GET', '/api/flows/..%2f..%2fadmin', 'viewer', undefined, { refused: 400 }],
    ['GET', '/api//flows', 'viewer', undefined, { refused: 400 }],
    ['POST', '/dashboard', null, '', { refused: 405 }],
    ['GET', '/dashboard?x=1', null, undefined, { route: 'ui', forwards: '/dashboard?x=1', refused: null, audit: null }],
    ['GET', '/api/health', null, undefined, { forwards: '/api/health', refused: null }],
  ])('%s %s as %s', (method, url, role, body, expected) => {
    expect(run(method, url, role, body)).toMatchObject(expected);
  });
});

describe('websocket upgrades, decided without sockets', () => {
  it.each([
    // [url, role, expected]
    ['/api/events/in', 'worker', { route: '/events/in', refused: null, audit: 'ALLOWED write/events' }],
    ['/API/events/out', 'viewer', { route: '/events/out', refused: null, audit: 'ALLOWED read/events' }],
    ['/api/events/in', 'viewer', { refused: 403, audit: 'BLOCKED write/events' }],
    ['/api/logs/out?x=1', 'viewer', { route: '/logs/out', forwards: '/api/logs/out?x=1' }],
    ['/api/flows', 'owner', { notFound: true }],
    ['/ws', 'owner', { notFound: true }],
    ['/api/events/..%2fin', 'owner', { notFound: true }],
  ])('%s as %s', (url, role, expected) => {
    const local = classifySocketRequest(url, ['api']);
    if (!local) return expect({ notFound: true }).toMatchObject(expected);
    const decision = decideSocket(local, as(role));
    expect({
      route: local.route,
      forwards: local.forwardPath,
      refused: decision.refusal?.status ?? null,
      audit: auditOf('WEBSOCKET', decision.decided),
    }).toMatchObject(expected);
  });
});
