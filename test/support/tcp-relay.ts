import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpRelay {
  readonly port: number;
  /** Drops every connection and refuses new ones, as a database that went away. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A loopback TCP relay in front of a real server, so a test can take that server away and bring it back. */
export async function startTcpRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const target = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(target);
    client.pipe(target).pipe(client);
    const done = () => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on('error', done).on('close', done);
    target.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
