export { compileScopes, formatPermission, invalidScopes, isAllowed, scopesCover, splitScopes } from './scopes';
export type { CompiledScopes, CoverVerdict, Permission } from './scopes';
export * as graphql from './graphql';
export { BUILTIN_ROLES, buildRoleTable, expandRoles, RoleError } from './roles';
export type { RoleDefinition, RoleTable } from './roles';
export * as rest from './rest';
