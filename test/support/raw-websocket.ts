import { randomBytes } from 'node:crypto';
import net from 'node:net';

/**
 * Websocket clients built by hand on `node:net`: a client library refuses to send the malformed
 * frames and abrupt resets these tests need.
 */

export interface FrameOptions {
  readonly fin?: boolean;
  readonly rsv1?: boolean;
  /** Client frames must be masked; `false` sends an unmasked one. */
  readonly mask?: boolean;
  /** A length to announce instead of the payload's (the payload is then not sent). */
  readonly announce?: number;
}

export function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), options: FrameOptions = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const length = options.announce ?? body.length;
  const first = (options.fin === false ? 0 : 0x80) | (options.rsv1 ? 0x40 : 0) | opcode;
  const maskBit = options.mask === false ? 0 : 0x80;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([first, maskBit | length]);
  } else if (length < 65_536) {
    header = Buffer.from([first, maskBit | 126, length >> 8, length & 0xff]);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (options.announce !== undefined) return Buffer.concat([header, options.mask === false ? Buffer.alloc(0) : randomBytes(4)]);
  if (options.mask === false) return Buffer.concat([header, body]);
  const key = randomBytes(4);
  const masked = Buffer.from(body.map((byte, i) => byte ^ (key[i % 4] ?? 0)));
  return Buffer.concat([header, key, masked]);
}

export const textFrame = (text: string): Buffer => frame(0x1, text);

/** A close frame's payload: the code, then the reason. */
export const closePayload = (code: number, reason: Buffer | string = ''): Buffer => {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
};

export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

export interface RawWebsocket {
  /** The status line of the answer to the upgrade request. */
  readonly status: string;
  readonly socket: net.Socket;
  send(bytes: Buffer): void;
  /** Frames the proxy sent after its 101. */
  frames(): ServerFrame[];
  /** Resolves with the proxy's close frame (code, reason). */
  closeFrame(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  /** Resolves with the first text message. */
  firstText(timeoutMs?: number): Promise<string>;
  /** Resolves when the TCP connection is closed (either side). */
  readonly ended: Promise<void>;
}

export interface UpgradeOptions {
  /** `null`: no Sec-WebSocket-Protocol header. */
  readonly protocol?: string | null;
  readonly headers?: Record<string, string>;
  /** Bytes sent in the same write as the upgrade request, before any answer. */
  readonly trailing?: Buffer;
}

export function upgradeRequest(path: string, options: UpgradeOptions = {}): string {
  const headers: Record<string, string> = {
    host: 'localhost',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-version': '13',
    'sec-websocket-key': randomBytes(16).toString('base64'),
    ...(options.protocol === null ? {} : { 'sec-websocket-protocol': options.protocol ?? 'prefect' }),
    ...options.headers,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** Opens a TCP connection, sends the upgrade request and waits for the status line and headers. */
export async function rawUpgrade(port: number, path: string, options: UpgradeOptions = {}): Promise<RawWebsocket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let buffer = Buffer.alloc(0);
  let headersDone: (status: string) => void = () => undefined;
  const status = new Promise<string>((resolve) => (headersDone = resolve));
  let afterHeaders = false;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (afterHeaders) return;
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    afterHeaders = true;
    const head = buffer.subarray(0, end).toString('latin1');
    buffer = buffer.subarray(end + 4);
    headersDone(head.split('\r\n')[0] ?? '');
  });
  socket.once('close', () => headersDone('(connection closed)'));
  socket.write(Buffer.concat([Buffer.from(upgradeRequest(path, options), 'latin1'), options.trailing ?? Buffer.alloc(0)]));
  const statusLine = await status;
  const frames = (): ServerFrame[] => parseFrames(buffer);
  const waitFrame = async (predicate: (f: ServerFrame) => boolean, timeoutMs: number): Promise<ServerFrame> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = frames().find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such frame in time; got ${JSON.stringify(frames().map((f) => f.opcode))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    status: statusLine,
    socket,
    send: (bytes) => socket.write(bytes),
    frames,
    async closeFrame(timeoutMs = 5000) {
      const close = await waitFrame((f) => f.opcode === 0x8, timeoutMs);
      return { code: close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005, reason: close.payload.subarray(2).toString('utf8') };
    },
    async firstText(timeoutMs = 5000) {
      return (await waitFrame((f) => f.opcode === 0x1, timeoutMs)).payload.toString('utf8');
    },
    ended,
  };
}

/** Server frames (unmasked, no extensions); a trailing partial frame is left out. */
function parseFrames(buffer: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let at = 0;
  while (at + 2 <= buffer.length) {
    const opcode = (buffer[at] ?? 0) & 0x0f;
    let length = (buffer[at + 1] ?? 0) & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > buffer.length) break;
      length = buffer.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > buffer.length) break;
      length = Number(buffer.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > buffer.length) break;
    frames.push({ opcode, payload: buffer.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}
