import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { guardEmitter, guardServer } from '../../../src/http/socket-guard';
import type { Logger } from '../../../src/log';

function recordingLogger(): Logger & { lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (message: string) => void lines.push([level, message]);
  return {
    lines, level: 'debug', error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), notice: at('notice'),
    overrideLevel: () => undefined, close: () => undefined,
  };
}

const withCode = (code: string | undefined) => Object.assign(new Error('boom'), code === undefined ? {} : { code });

describe('guardEmitter', () => {
  it.each([
    ['ECONNRESET', 'debug'],
    ['EPIPE', 'debug'],
    ['WS_ERR_EXPECTED_MASK', 'debug'],
    ['HPE_INVALID_METHOD', 'debug'],
    ['ERR_STREAM_WRITE_AFTER_END', 'warn'],
    [undefined, 'warn'],
  ])('an error with code %s is heard, not thrown, and reported at %s', (code, level) => {
    const logger = recordingLogger();
    const emitter = new EventEmitter();
    guardEmitter(emitter, 'thing', logger);
    expect(() => emitter.emit('error', withCode(code))).not.toThrow();
    expect(logger.lines.map(([l]) => l)).toEqual([level]);
  });

  it('adds one listener however often it is called', () => {
    const emitter = new EventEmitter();
    const logger = recordingLogger();
    guardEmitter(emitter, 'a', logger);
    guardEmitter(emitter, 'b', logger);
    expect(emitter.listenerCount('error')).toBe(1);
  });
});

describe('guardServer', () => {
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    server = http.createServer({ requestTimeout: 300, connectionsCheckingInterval: 50, maxHeaderSize: 1024 }, (req) => req.resume());
    guardServer(server, recordingLogger());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Node's own answers to unparsable requests survive the 'clientError' listener. */
  it.each([
    ['a request line that does not parse', 'NOT HTTP\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
    ['headers over the limit', `GET / HTTP/1.1\r\nx: ${'a'.repeat(2048)}\r\n\r\n`, 'HTTP/1.1 431 Request Header Fields Too Large'],
    ['a body that never arrives', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n', 'HTTP/1.1 408 Request Timeout'],
  ])('%s is answered as Node answers it, then closed', async (_name, bytes, status) => {
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(text));
    });
    expect(answer.split('\r\n')[0]).toBe(status);
  });
});

describe('guardServer on a handler that misuses its response', () => {
  it('hears the response error (write after end) instead of letting it end the process', async () => {
    const logger = recordingLogger();
    const server = http.createServer((_req, res) => {
      res.end('done');
      res.write('late');
    });
    guardServer(server, logger);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(await res.text()).toBe('done');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines).toContainEqual(['warn', 'response: unexpected error']);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
