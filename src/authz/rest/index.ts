export { bodyWantsSecrets, classifyRest, classifyWebsocket, queryWantsSecrets, secretPermission } from './classify';
export type { RestRequirement } from './classify';
export { normalizePath } from './normalize-path';
export type { NormalizedPath } from './normalize-path';
