export { compileScopes, formatPermission, invalidScopes, isAllowed, splitScopes } from './scopes';
export type { CompiledScopes, Permission } from './scopes';
export * as graphql from './graphql';
