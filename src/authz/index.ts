export { formatPermission, isAllowed, scopesCover, splitScopes } from './scopes';
export type { CompiledScopes, CoverVerdict, Permission } from './scopes';
// A key's scopes in the full grammar, selectors included (authz/objects): every principal is
// compiled by these, so that code which knows nothing of objects still reads narrowed scopes right.
export { compileObjectScopes as compileScopes, formatScopeProblems, invalidObjectScopes, malformedScopes as invalidScopes, objectScopesCover } from './objects';
export type { ObjectScopes } from './objects';
export * as graphql from './graphql';
export * as objects from './objects';
export { BUILTIN_ROLES, buildRoleTable, expandRoles, RoleError } from './roles';
export type { RoleDefinition, RoleTable } from './roles';
export * as rest from './rest';
