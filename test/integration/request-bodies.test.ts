import net from 'node:net';
import request from 'supertest';
import { useProxyStack } from '../support/stack';

const KEY = 'bodies-key-00001';
const LIMIT = 1024 * 1024;

interface RawResult {
  /** What the proxy answered, as far as the client read it. */
  readonly answer: string;
  /** The first socket error the client saw while writing or reading, if any. */
  readonly error: string | undefined;
}

/**
 * A client as the Prefect clients behave: writes its whole body first (waiting for the socket to
 * drain), then reads the answer. A reset while it writes is what it would report as a connection error.
 */
function sendWholeBodyThenRead(url: string, head: string, body: Buffer, chunkBytes = 64 * 1024): Promise<RawResult> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let answer = '';
    let error: string | undefined;
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    socket.on('close', () => resolve({ answer, error }));
    socket.on('connect', async () => {
      socket.write(head);
      for (let at = 0; at < body.length && !socket.destroyed; at += chunkBytes) {
        if (!socket.write(body.subarray(at, at + chunkBytes))) await new Promise((r) => socket.once('drain', r));
      }
      // Done writing: give the answer time to arrive, then hang up.
      setTimeout(() => socket.end(), 1500);
    });
  });
}

/** Sends the headers and `sent` bytes of a body announced as `announced` bytes, then waits. */
function trickle(url: string, head: string, sent: string, waitMs: number): Promise<RawResult> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(head + sent));
    let answer = '';
    let error: string | undefined;
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, error });
    });
  });
}

const restHead = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
const chunkedHead = (path: string) =>
  `POST ${path} HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;

/** A chunked body of `total` bytes of JSON-ish filler, in 16 KB chunks. */
function chunked(total: number): Buffer {
  const parts: Buffer[] = [];
  for (let left = total; left > 0; left -= 16 * 1024) {
    const size = Math.min(16 * 1024, left);
    parts.push(Buffer.from(`${size.toString(16)}\r\n${' '.repeat(size)}\r\n`));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

describe.each([
  ['rest', '/api/flow_runs/filter', { API_KIND: 'rest', UPSTREAM_AUTH_STRING: 'server-secret' }],
  ['graphql', '/graphql', { API_KIND: 'graphql' }],
] as const)('request bodies (%s dialect)', (dialect, path, env) => {
  const stack = useProxyStack({
    name: `bodies_${dialect}`,
    keys: [{ userId: 'bodies', scopes: '*', key: KEY, hashed: true }],
    env: { ...env, BODY_LIMIT: String(LIMIT), BODY_TIMEOUT: '1' },
  });
  beforeEach(() => {
    stack.upstream.received.length = 0;
  });

  it('answers 413 to a client still sending an announced oversized body, instead of resetting it', async () => {
    const result = await sendWholeBodyThenRead(stack.proxy.url, restHead(path, 8 * LIMIT), Buffer.alloc(8 * LIMIT, 0x20));
    expect(result.error).toBeUndefined();
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.answer).toContain('request body is too large');
    expect(stack.upstream.started).toBe(0);
  });

  it('answers 413 to a client still sending an oversized chunked body', async () => {
    const result = await sendWholeBodyThenRead(stack.proxy.url, chunkedHead(path), chunked(8 * LIMIT));
    expect(result.error).toBeUndefined();
    expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(stack.upstream.started).toBe(0);
  });

  it('answers 408 to a client that does not send the body it announced, and never holds an upstream connection for it', async () => {
    const before = stack.upstream.started;
    const slow = Array.from({ length: 5 }, () => trickle(stack.proxy.url, restHead(path, 100_000), '{', 5000));
    // Meanwhile everyone else is served.
    const query = JSON.stringify({ query: '{ flow { id } }' });
    await request(stack.proxy.url).post(path).set('authorization', `Bearer ${KEY}`).type('json').send(query).expect(200);
    const results = await Promise.all(slow);
    for (const result of results) {
      expect(result.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(result.answer).toContain('the request body did not arrive within 1 s');
      expect(result.answer.toLowerCase()).toContain('connection: close');
    }
    expect(stack.upstream.started - before).toBe(1);
  });

  it('never forwards a header asking the server to treat the request as another method', async () => {
    const query = JSON.stringify({ query: '{ flow { id } }' });
    await request(stack.proxy.url).post(path).type('json').send(query).set({
      authorization: `Bearer ${KEY}`, 'x-http-method-override': 'DELETE', 'x-http-method': 'DELETE', 'x-method-override': 'DELETE',
    }).expect(200);
    expect(stack.upstream.received).toHaveLength(1);
    const headers = stack.upstream.received[0]?.headers ?? {};
    expect(Object.keys(headers).filter((h) => h.includes('method'))).toEqual([]);
  });
});
