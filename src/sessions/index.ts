export type { CreatedSession, GroupUpdate, NewSession, SessionEndReason, SessionKind, SessionLookup, SessionRecord, SessionState, SessionStore, SessionTokens } from './types';
export { SESSION_END_REASONS, SESSION_KINDS, SessionInputError, SessionStoreUnavailableError } from './types';
export { generateSessionId, hashSessionId, isSessionHash, isSessionId } from './session-id';
export { isGroupCheckDue, isSessionLive, sessionState } from './liveness';
export { deriveTokenKey, openToken, sealToken, TOKEN_KEY_BYTES } from './token-seal';
export { checkLists, checkNewSession, checkToken, parseList, SESSION_LIMITS } from './new-session';
export type { CheckedSession } from './new-session';
export { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_TOUCH_INTERVAL_MS } from './defaults';
