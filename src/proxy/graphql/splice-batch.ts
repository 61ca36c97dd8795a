import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { scopeOf, sendJson } from '../../http';
import type { BatchSplice } from '../../http';

const NOT_COPIED = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * Puts the upstream's answers for the forwarded items of a partly denied batch back at their
 * positions, beside the denials: Apollo's batch link rejects a reply of the wrong length.
 */
export function spliceBatchResponse(status: number, headers: IncomingHttpHeaders, body: Buffer, req: IncomingMessage, res: ServerResponse): void {
  const splice = scopeOf(req).batchSplice as BatchSplice;
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !NOT_COPIED.has(name)) res.setHeader(name, value);
  }
  const answers = parseArray(body);
  if (status !== 200 || !answers || answers.length !== splice.forwardedPositions.length) {
    res.statusCode = status;
    res.end(body);
    return;
  }
  const merged = new Array<unknown>(splice.size);
  splice.forwardedPositions.forEach((position, i) => (merged[position] = answers[i]));
  for (const [position, answer] of splice.denied) merged[position] = answer;
  sendJson(res, 200, merged);
}

function parseArray(body: Buffer): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
