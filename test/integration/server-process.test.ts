import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';
import { waitFor } from '../support/proxy';

const SERVER = join(__dirname, '..', '..', 'dist', 'server.js');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built server as operators run it (`npm start` runs this file). */
function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH, ...env }, cwd: mkdtempSync(join(tmpdir(), 'pap-run-')) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, exited, output: () => stdout };
}

describe('the server process', () => {
  it('refuses a bad configuration with one line naming each variable, before listening', async () => {
    const { exited } = startServer({ ALLOW_PUBLIC_ACCESS: 'nope', PORT: '-1', DB_PASSWORD: 'hunter2' });
    const { code, stderr, stdout } = await exited;
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('ALLOW_PUBLIC_ACCESS must be true or false');
    expect(stderr).toContain('PORT must be');
    expect(stderr).not.toContain('hunter2');
  });

  it('starts on a fresh directory with the embedded store, answers, and exits 0 on SIGTERM', async () => {
    const { child, exited, output } = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', NODE_ENV: 'production', DB_PASSWORD: 'hunter2' });
    const deadline = Date.now() + 10_000;
    while (!output().includes('listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const started = JSON.parse(output().split('\n').find((l) => l.includes('listening'))!) as { address: string };
    const port = started.address.split(':').at(-1);
    const res = await fetch(`http://127.0.0.1:${port}/healthcheck`);
    expect(await res.text()).toBe('All OK');
    const denied = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ flow { id } }"}' });
    expect(denied.status).toBe(401);
    child.kill('SIGTERM');
    const { code, stdout } = await exited;
    expect(code).toBe(0);
    expect(stdout).toContain('shutting down');
    expect(stdout).not.toContain('hunter2');
  });

  describe('graceful shutdown', () => {
    let upstream: RecordingUpstream;
    beforeAll(async () => {
      upstream = await startRecordingUpstream();
    });
    afterAll(() => upstream.close());

    const started = async (env: Record<string, string>) => {
      const server = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', ALLOW_PUBLIC_ACCESS: 'true', API_SERVICE_URL: upstream.url, ...env });
      const deadline = Date.now() + 10_000;
      while (!server.output().includes('listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const line = JSON.parse(server.output().split('\n').find((l) => l.includes('listening'))!) as { address: string };
      return { ...server, url: `http://127.0.0.1:${line.address.split(':').at(-1)}` };
    };
    const query = (url: string) => fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ flow { id } }"}' });

    it('finishes a request in flight within SHUTDOWN_GRACE_PERIOD, refuses new connections, exits 0', async () => {
      upstream.respondWith((_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"flow":[]}}'), 1000));
      const server = await started({ SHUTDOWN_GRACE_PERIOD: '10' });
      const before = upstream.started;
      const inFlight = query(server.url);
      await waitFor(() => upstream.started > before);
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      await expect(query(server.url)).rejects.toThrow();
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { flow: [] } });
      expect((await server.exited).code).toBe(0);
    });

    it('cuts what is still running when the grace period ends, and still exits 0', async () => {
      upstream.respondWith(() => undefined);
      const server = await started({ SHUTDOWN_GRACE_PERIOD: '1' });
      const before = upstream.started;
      const inFlight = query(server.url).then((r) => r.status, () => 'cut');
      await waitFor(() => upstream.started > before);
      const signalled = Date.now();
      server.child.kill('SIGTERM');
      const { code } = await server.exited;
      expect(code).toBe(0);
      // One second of grace, not the 120 s upstream timeout: bounded well below it.
      expect(Date.now() - signalled).toBeLessThan(5000);
      expect(await inFlight).toBe('cut');
    });
  });
});
