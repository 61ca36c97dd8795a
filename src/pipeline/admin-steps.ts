import type { AdminRequirement } from '../admin';
import { classifyAdmin } from '../admin';
import { formatPermission, isAllowed } from '../authz';
import type { Config } from '../config';
import { ProxyError } from '../http';
import type { Exchange, Verdict } from './chain';

export type AdminExchange = Exchange<AdminRequirement>;

const OWN_PATHS = /^\/(healthcheck|readyz|metrics|logs|cache|admin)(\/|$)/i;

/** Whether a path is one of the proxy's own routes rather than the Prefect API's. */
export function isOwnPath(path: string): boolean {
  return OWN_PATHS.test(path);
}

const SIGN_IN_PATHS = /^\/auth(\/|$)/i;

/** The sign-in pages (SIGN_IN): `/auth/login`, `/auth/callback`, ... */
export function isSignInPath(path: string): boolean {
  return SIGN_IN_PATHS.test(path);
}

/** The proxy's own routes: a key is always required on guarded ones, whatever ALLOW_PUBLIC_ACCESS says. */
export function createAdminSteps(config: Config) {
  return {
    classify(x: AdminExchange): Verdict | undefined {
      x.scope.route = `/${(OWN_PATHS.exec(x.scope.path)?.[1] as string).toLowerCase()}`;
      const requirement = classifyAdmin(x.req.method ?? '', x.scope.path, config.metrics.port !== undefined);
      x.classified = requirement;
      return requirement.kind === 'public' ? { kind: 'serve' } : undefined;
    },

    /** Every attempt on a guarded route is audited, allowed or not. */
    decide(x: AdminExchange): Verdict {
      const requirement = x.classified as Extract<AdminRequirement, { kind: 'permission' }>;
      const principal = x.scope.principal;
      const name = formatPermission(requirement.permission);
      const allowed = principal !== null && isAllowed(principal.scopes, requirement.permission);
      x.scope.summary = requirement.label;
      x.decided = [{
        dialect: 'admin', operationType: 'admin', operationName: requirement.label, fields: [requirement.label],
        allowed, permissions: [name], changesState: true,
      }];
      if (!allowed) return { kind: 'refuse', error: new ProxyError('FORBIDDEN', `API key lacks permission: ${name}`) };
      x.scope.granted = name;
      return { kind: 'serve' };
    },
  };
}
