export { OwnKeyError } from './types';
export type { OwnKey, OwnKeyStore } from './types';
