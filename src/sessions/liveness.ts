import type { SessionRecord, SessionState } from './types';

type Times = Pick<SessionRecord, 'endedAt' | 'expiresAt' | 'lastSeenAt'>;

/**
 * Why a session can or cannot be used at `now` (epoch ms). Ended wins over expired, expired over
 * idle, so the reason given is the first one that happened by rule, not by clock. Each bound is
 * exclusive: a session whose expiry is exactly now is over. Written as "not inside the bound", so a
 * time that is not a number (a damaged row) ends the session instead of keeping it alive.
 */
export function sessionState(session: Times, now: number, idleTimeoutMs: number): SessionState {
  if (session.endedAt !== null) return 'ended';
  if (!(now < session.expiresAt)) return 'expired';
  if (!(now - session.lastSeenAt < idleTimeoutMs)) return 'idle';
  return 'live';
}

export function isSessionLive(session: Times, now: number, idleTimeoutMs: number): boolean {
  return sessionState(session, now, idleTimeoutMs) === 'live';
}

/** Whether the provider must be asked for the user's groups again (refresh token or new sign-in). */
export function isGroupCheckDue(session: Pick<SessionRecord, 'groupsCheckedAt'>, now: number, intervalMs: number): boolean {
  return !(now - session.groupsCheckedAt < intervalMs);
}
