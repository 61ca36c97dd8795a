export { bodyWantsSecrets, classifyRest, classifyWebsocket, queryWantsSecrets, secretPermission } from './classify';
export type { RestRequirement } from './classify';
export { decisionReadsBody, JOB_VARIABLES_PERMISSION, overridesJobVariables, refinePermissions, UNREADABLE } from './body-permissions';
export type { InspectedBody } from './body-permissions';
export { normalizePath } from './normalize-path';
export type { NormalizedPath } from './normalize-path';
