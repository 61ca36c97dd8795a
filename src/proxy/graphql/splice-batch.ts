import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../../http';

/** For a batch the proxy answered in part: how to put the upstream's answers back in place. */
export interface BatchSplice {
  readonly size: number;
  /** Position in the client's batch of each forwarded item, in forwarded order. */
  readonly forwardedPositions: readonly number[];
  /** The proxy's own answer for each other position (denied or malformed items). */
  readonly answered: ReadonlyMap<number, unknown>;
}

const NOT_COPIED = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * Puts the upstream's answers for the forwarded items of a partly denied batch back at their
 * positions, beside the denials: Apollo's batch link rejects a reply of the wrong length.
 */
export const spliceBatchResponse = (splice: BatchSplice) => (status: number, headers: IncomingHttpHeaders, body: Buffer, _req: IncomingMessage, res: ServerResponse): void => {
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
  for (const [position, answer] of splice.answered) merged[position] = answer;
  sendJson(res, 200, merged);
};

function parseArray(body: Buffer): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
