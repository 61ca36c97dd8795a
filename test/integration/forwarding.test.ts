import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { waitFor } from '../support/proxy';
import { useProxyStack } from '../support/stack';
import { echoGraphQL } from '../support/upstream';

const KEY = 'forwarding-key-01';
const QUERY = JSON.stringify({ query: '{ flow { id } }' });

/** Sends raw bytes on one connection and returns what came back once the proxy closes it or `waitMs` passes. */
function rawExchange(url: string, bytes: string, waitMs = 1500): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    setTimeout(() => socket.destroy(), waitMs);
  });
}

describe('forwarding (GraphQL dialect)', () => {
  const stack = useProxyStack({ name: 'forwarding', keys: [{ userId: 'fwd', scopes: 'query/* mutation/*', key: KEY }] });
  beforeEach(() => {
    stack.upstream.received.length = 0;
    stack.upstream.respondWith(echoGraphQL);
  });

  it('refuses an absolute-form request target before anything else', async () => {
    const answer = await rawExchange(stack.proxy.url,
      `POST http://127.0.0.1:1/admin/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${QUERY.length}\r\nConnection: close\r\n\r\n${QUERY}`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('the request target must be a path starting with /');
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('answers 404 for an unknown route in the proxy\'s own namespace and forwards nothing', async () => {
    const res = await request(stack.proxy.url).post('/admin/nothing-here').set('authorization', `Bearer ${KEY}`).type('json').send(QUERY);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ detail: 'no such route on the auth proxy' });
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('passes the body after answering Expect: 100-continue, and never passes the Expect header on', async () => {
    const answer = await rawExchange(stack.proxy.url,
      `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${QUERY.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${QUERY}`);
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(answer).toContain('HTTP/1.1 200 OK');
    expect(stack.upstream.received).toHaveLength(1);
    expect(JSON.parse(stack.upstream.received[0]?.body ?? '')).toEqual({ query: '{ flow { id } }' });
    expect(stack.upstream.received[0]?.headers).not.toHaveProperty('expect');
  });

  it('drops headers the Connection header names and replaces forwarding claims of an untrusted client', async () => {
    await request(stack.proxy.url).post('/').set({
      authorization: `Bearer ${KEY}`, 'content-type': 'application/json', connection: 'x-hop', 'x-hop': 'secret-ish',
      'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', forwarded: 'for=6.6.6.6',
    }).send(QUERY).expect(200);
    const headers = stack.upstream.received[0]?.headers ?? {};
    expect(headers).not.toHaveProperty('x-hop');
    expect(headers).not.toHaveProperty('forwarded');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers).not.toHaveProperty('authorization');
  });

  it('cancels the upstream request when the client goes away before the answer', async () => {
    let upstreamClosed = false;
    stack.upstream.respondWith((_req, res) => {
      res.on('close', () => (upstreamClosed = true));
    });
    const req = http.request(`${stack.proxy.url}/`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(QUERY);
    await waitFor(() => stack.upstream.received.length === 1);
    req.destroy();
    await waitFor(() => upstreamClosed, 3000);
    expect(upstreamClosed).toBe(true);
  });

  it('does not pass connection-level headers of the answer back, and streams a long answer intact', async () => {
    const big = JSON.stringify({ data: { flow: Array.from({ length: 20_000 }, (_, i) => ({ id: `f${i}` })) } });
    stack.upstream.respondWith((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'keep-alive': 'timeout=99', 'x-upstream': 'yes' });
      res.write(big.slice(0, 1000));
      setTimeout(() => res.end(big.slice(1000)), 20);
    });
    const res = await request(stack.proxy.url).post('/').set({ authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }).send(QUERY);
    expect(res.status).toBe(200);
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.headers['keep-alive']).not.toBe('timeout=99');
    expect(JSON.stringify(res.body)).toBe(big);
  });
});

describe('forwarding (REST dialect)', () => {
  const stack = useProxyStack({
    name: 'forwarding_rest',
    keys: [{ userId: 'dev', scopes: 'read/* write/*', key: KEY }],
    env: { API_KIND: 'rest', UPSTREAM_AUTH_STRING: 'server-secret' },
  });
  beforeEach(() => {
    stack.upstream.received.length = 0;
    stack.upstream.respondWith((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });

  it('streams a body with a length unchanged, and buffers a chunked one into a length', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(50_000) });
    await request(stack.proxy.url).post('/api/flows/').set({ authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }).send(body).expect(201);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${stack.proxy.url}/api/flows/`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 20);
    });
    expect(chunked).toBe(201);
    expect(stack.upstream.received.map((r) => r.body)).toEqual([body, body]);
    expect(stack.upstream.received.map((r) => r.headers['content-length'])).toEqual([String(body.length), String(body.length)]);
    expect(stack.upstream.received[1]?.headers).not.toHaveProperty('transfer-encoding');
    expect(stack.upstream.received.map((r) => r.headers.authorization)).toEqual(['Basic c2VydmVyLXNlY3JldA==', 'Basic c2VydmVyLXNlY3JldA==']);
  });

  it('sends a GET without a body as a GET without a body', async () => {
    await request(stack.proxy.url).get('/api/flows/0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b').set('authorization', `Bearer ${KEY}`).expect(201);
    const got = stack.upstream.received[0];
    expect(got?.method).toBe('GET');
    expect(got?.body).toBe('');
    expect(got?.headers).not.toHaveProperty('transfer-encoding');
    expect(got?.headers).not.toHaveProperty('content-length');
  });
});
