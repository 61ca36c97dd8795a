import request from 'supertest';
import { useProxyStack } from '../support/stack';
import { echoGraphQL } from '../support/upstream';

const READER = 'reader-key-limits-01';
const MAX_TOKENS = 1000;

const stack = useProxyStack({
  name: 'graphql_limits',
  env: { GRAPHQL_MAX_TOKENS: String(MAX_TOKENS) },
  keys: [{ userId: 'reader', scopes: 'query/*', key: READER }],
});

beforeEach(() => {
  stack.upstream.received.length = 0;
  stack.upstream.respondWith(echoGraphQL);
});

const post = (body: unknown) =>
  request(stack.proxy.url).post('/').set({ 'content-type': 'application/json', authorization: `Bearer ${READER}` }).send(JSON.stringify(body));

/** A query of exactly `tokens` tokens (its name makes each text distinct, out of the document cache's reach). */
const doc = (name: string, tokens: number) => `query ${name} { ${'a '.repeat(tokens - 4)}}`;
/** The same, cut short of its closing brace: read to its end, then refused. */
const broken = (name: string, tokens: number) => doc(name, tokens + 1).slice(0, -1);

describe('GRAPHQL_MAX_TOKENS bounds the parsing of a whole request', () => {
  it.each([
    ['a batch of documents each under the limit', [{ query: doc('A', 600) }, { query: doc('B', 600) }]],
    ['the same document twice: a cached document is not free', [{ query: doc('Same', 600) }, { query: doc('Same', 600) }]],
    ['malformed documents: what was read before the fault counts', [{ query: broken('A', 600) }, { query: broken('B', 600) }]],
    ['a batch of 50 small documents adding up', Array.from({ length: 50 }, (_, i) => ({ query: doc(`Q${i}`, 30) }))],
    ['one document over the limit', { query: doc('Big', MAX_TOKENS + 1) }],
    ['a document of comments, which graphql-js does not count as tokens', { query: `{ a }${'#\n'.repeat(MAX_TOKENS)}` }],
  ])('%s: 413 naming the limit, nothing forwarded', async (_name, body) => {
    const res = await post(body);
    expect(res.status).toBe(413);
    expect(res.body.errors).toEqual([{
      message: expect.stringContaining(`more than ${MAX_TOKENS} GraphQL tokens (GRAPHQL_MAX_TOKENS`),
      extensions: { code: 'PAYLOAD_TOO_LARGE' },
    }]);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('forwards a batch whose documents fit the budget together', async () => {
    const batch = [{ query: doc('A', 450), operationName: 'A' }, { query: doc('B', 450), operationName: 'B' }];
    const res = await post(batch);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ data: { echo: 'A' } }, { data: { echo: 'B' } }]);
    expect(JSON.parse(stack.upstream.received[0]!.body)).toEqual(batch);
  });

  it('answers the next request with the full budget again', async () => {
    expect((await post([{ query: doc('A', 600) }, { query: doc('B', 600) }])).status).toBe(413);
    const res = await post({ query: doc('A', 600) });
    expect(res.status).toBe(200);
    expect(stack.upstream.received).toHaveLength(1);
  });
});
