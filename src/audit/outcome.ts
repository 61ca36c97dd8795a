/**
 * One vocabulary for the audit trail and the metrics. allowed: the request reached the Prefect API
 * (whatever it answered) or the proxy answered it as asked; denied: the proxy refused it; error:
 * the proxy or the Prefect API failed, or the client went away before an answer.
 */
export type Outcome = 'allowed' | 'denied' | 'error';

/** The same three, as the audit trail has always spelled the first two. */
export type AuditOutcome = 'ALLOWED' | 'BLOCKED' | 'ERROR';

export const AUDIT_OUTCOMES: Readonly<Record<Outcome, AuditOutcome>> = { allowed: 'ALLOWED', denied: 'BLOCKED', error: 'ERROR' };

/** The outcome of an HTTP request from how it ended. */
export function outcomeOf(status: number, forwarded: boolean, upstreamFailed: boolean): Outcome {
  if (forwarded && !upstreamFailed && status > 0) return 'allowed';
  if (status === 0 || status >= 500) return 'error';
  return status >= 400 ? 'denied' : 'allowed';
}

/** A decision to allow that then failed upstream (502, 504) or lost its client is an error; a refusal stays one. */
export function finalOutcome(decided: AuditOutcome, status: number, forwarded: boolean, upstreamFailed: boolean): AuditOutcome {
  if (decided !== 'ALLOWED') return decided;
  return AUDIT_OUTCOMES[outcomeOf(status, forwarded, upstreamFailed)] === 'ERROR' ? 'ERROR' : 'ALLOWED';
}

/** A websocket session the proxy closed: 1000/1001 (client gone, shutdown) and 1011 (upstream or store failed) are errors. */
export function outcomeOfClose(code: number): Outcome {
  if (code === 101) return 'allowed';
  return code === 1000 || code === 1001 || code === 1011 ? 'error' : 'denied';
}
