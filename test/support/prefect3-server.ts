import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrefectServer {
  readonly url: string;
  readonly home: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real `prefect server start` on a free loopback port, SQLite in a fresh home, protected by
 * `authString` (Prefect 3). Prefect 2 servers have no auth string: pass `undefined` and any
 * settings of that generation in `env`.
 */
export async function startPrefectServer(bin: string, authString: string | undefined, env: Record<string, string> = {}): Promise<PrefectServer> {
  const home = mkdtempSync(join(tmpdir(), 'prefect-server-'));
  const port = await freePort();
  const child: ChildProcess = spawn(join(bin, 'prefect'), ['server', 'start', '--host', '127.0.0.1', '--port', String(port)], {
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: home,
      PREFECT_HOME: home,
      ...(authString === undefined ? {} : { PREFECT_SERVER_API_AUTH_STRING: authString }),
      PREFECT_API_DATABASE_CONNECTION_URL: `sqlite+aiosqlite:///${join(home, 'prefect.db')}`,
      PREFECT_SERVER_ANALYTICS_ENABLED: 'false',
      PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prefect server exited: ${output.slice(-2000)}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prefect server did not start: ${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    url,
    home,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
