// Starts and stops the processes a benchmark run needs, all on loopback.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitForHttp(url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Installs a Debian package when its command is missing (wrk, nginx). */
export function ensureCommand(command, pkg) {
  try {
    execFileSync('which', [command], { stdio: 'ignore' });
  } catch {
    console.log(`installing ${pkg}`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
}

export const BENCH_DEPLOYMENT_ID = '6a1f0e5c-1d11-4ac2-9a5f-2b9d0c550f49';
export const BENCH_FLOW_ID = '3b5d4e6f-8a9b-4c1d-9e3f-4a5b0f0e4a1c';

/** The trivial upstream: nginx answering every request with a small JSON 200 (and a deployment for lookups), one worker. */
export async function startNginx() {
  const dir = mkdtempSync(join(tmpdir(), 'pap-bench-nginx-'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log crit;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir};
  client_max_body_size 20m;
  keepalive_requests 1000000;
  keepalive_timeout 4s;
  server {
    listen 127.0.0.1:${port};
    # What a narrowed key's decision looks up: one deployment of flow team-a, and that flow.
    location = /api/deployments/${BENCH_DEPLOYMENT_ID} {
      default_type application/json;
      return 200 '{"id":"${BENCH_DEPLOYMENT_ID}","name":"nightly","flow_id":"${BENCH_FLOW_ID}","tags":["team-a"],"work_pool_name":"pool-a"}';
    }
    location = /api/flows/${BENCH_FLOW_ID} {
      default_type application/json;
      return 200 '{"id":"${BENCH_FLOW_ID}","name":"team-a"}';
    }
    location / {
      default_type application/json;
      return 200 '{"data":{"flow":[]}}';
    }
  }
}
`);
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url);
  return { url, stop: () => child.kill('SIGTERM') };
}

/** A node process running `file` with `env`; resolves once `readyUrl` answers. */
export async function startNode(file, args, env, readyUrl) {
  const child = spawn(process.execPath, [file, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForHttp(readyUrl);
  return {
    pid: child.pid,
    rssMb: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024);
    },
    stop: () => new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}
