import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type Responder = (req: RecordedRequest, res: http.ServerResponse) => void;

export interface RecordingUpstream {
  readonly url: string;
  readonly received: RecordedRequest[];
  /** Requests whose headers arrived, finished or not: a request still sending its body counts here only. */
  readonly started: number;
  respondWith(responder: Responder): void;
  close(): Promise<void>;
}

/**
 * A stand-in for the Prefect API on an ephemeral port that records exactly what reached it.
 * Default answer: one GraphQL result per operation, echoing the operation's position.
 */
export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const received: RecordedRequest[] = [];
  let responder: Responder = echoGraphQL;
  let started = 0;
  const server = http.createServer((req, res) => {
    started++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(recorded);
      responder(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get started() {
      return started;
    },
    respondWith(next) {
      responder = next;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export const echoGraphQL: Responder = (req, res) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body);
  } catch {
    parsed = null;
  }
  const answer = Array.isArray(parsed)
    ? parsed.map((item: { operationName?: string }, i) => ({ data: { echo: item.operationName ?? i } }))
    : { data: { echo: 'single' } };
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-upstream', 'yes');
  res.end(JSON.stringify(answer));
};
