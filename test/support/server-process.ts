import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SERVER = join(__dirname, '..', '..', 'dist', 'server.js');

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  terminate(): Promise<number | null>;
}

/** The built server (what `npm start` runs) as a child process, started and ready. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...env },
    cwd: mkdtempSync(join(tmpdir(), 'pap-run-')),
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  let line: string | undefined;
  while (!(line = out.split('\n').find((l) => l.includes('listening'))) && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!line) throw new Error(`server did not start: ${out}`);
  const port = (JSON.parse(line) as { address: string }).address.split(':').at(-1);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    terminate: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
