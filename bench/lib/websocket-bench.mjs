// Events per second through /api/events/in: a client sends events as fast as the socket takes them,
// a stand-in server (doing Prefect's auth handshake) counts what arrives.
import WebSocket, { WebSocketServer } from 'ws';

export async function startEventSink(authString) {
  let received = 0;
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('prefect') ? 'prefect' : false) });
  server.on('connection', (socket) => {
    let authed = false;
    socket.on('message', (data) => {
      if (authed) {
        received++;
        return;
      }
      const msg = JSON.parse(data.toString());
      if (msg.type !== 'auth' || msg.token !== authString) return socket.close(1008, 'Invalid token');
      authed = true;
      socket.send('{"type":"auth_success"}');
    });
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received: () => received,
    reset: () => { received = 0; },
    stop: () => server.close(),
  };
}

/** Sends `count` events through `wsUrl` authenticated with `token`; returns events per second. */
export async function sendEvents(wsUrl, token, count, sink) {
  sink.reset();
  const socket = new WebSocket(wsUrl, ['prefect']);
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
  socket.send(JSON.stringify({ type: 'auth', token }));
  await new Promise((resolve, reject) => {
    socket.once('message', resolve);
    socket.once('close', (code, reason) => reject(new Error(`websocket closed before auth: ${code} ${reason}`)));
  });
  const event = JSON.stringify({ id: '00000000-0000-0000-0000-000000000000', event: 'prefect.bench', resource: { 'prefect.resource.id': 'bench' }, occurred: new Date().toISOString() });
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    socket.send(event);
    // Respect backpressure so the measurement is of delivery, not of buffering.
    if (socket.bufferedAmount > 1 << 20) await new Promise((r) => setTimeout(r, 1));
  }
  while (sink.received() < count) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - started) / 1000;
  socket.close();
  return Math.round(count / seconds);
}
