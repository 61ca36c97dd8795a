import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditDecision, AuditSink } from '../audit';
import { finalOutcome } from '../audit';
import type { RequestScope } from './request-scope';
import { scopeOf } from './request-scope';

/** Notes a decision about this request; it is recorded once the response has ended. */
export function recordDecision(req: IncomingMessage, decision: AuditDecision): void {
  scopeOf(req).auditDecisions.push(decision);
}

/** Completes the request's decisions with the status and latency the client saw, then records them. */
export function auditFinishedRequest(sink: AuditSink, scope: RequestScope, res: ServerResponse): void {
  if (scope.auditDecisions.length === 0) return;
  const status = res.headersSent ? res.statusCode : 0;
  const latencyMs = performance.now() - scope.startedAt;
  const time = new Date();
  const forwarded = scope.upstream !== undefined;
  const upstreamFailed = scope.upstream?.failure !== undefined;
  for (const decision of scope.auditDecisions) {
    sink.record({
      ...decision,
      outcome: finalOutcome(decision.outcome, status, forwarded, upstreamFailed),
      time,
      requestId: scope.id,
      user: scope.principal?.userId ?? null,
      keyId: scope.principal?.keyId ?? null,
      client: scope.client,
      status,
      latencyMs,
    });
  }
}
