export { createAdminApp } from './app';
export { createAdminRouter, ADMIN_PATHS } from './router';
export type { AdminDeps } from './router';
export { classifyAdmin } from './classify';
export type { AdminRequirement } from './classify';
