// Runs wrk with a Lua script and reads requests/s and latency percentiles from its report.
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'pap-bench-wrk-'));

/** `request`: { method, path, headers, body } or a Lua script text for dynamic requests. */
export function runWrk(baseUrl, request, { seconds = 8, connections = 32, threads = 1 } = {}) {
  const script = join(dir, `s${Math.random().toString(36).slice(2)}.lua`);
  const lua = typeof request === 'string' ? request : staticScript(request);
  writeFileSync(script, `${lua}\n${REPORT}`);
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, baseUrl], { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      const json = /BENCH_JSON (.*)/.exec(stdout);
      if (!json) return reject(new Error(`no report from wrk: ${stdout}`));
      resolve(JSON.parse(json[1]));
    });
  });
}

function luaString(text) {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function staticScript({ method, path, headers = {}, body }) {
  const lines = [`wrk.method = "${method}"`, `wrk.path = ${luaString(path)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${luaString(k)}] = ${luaString(v)}`);
  if (body !== undefined) lines.push(`wrk.body = ${luaString(body)}`);
  return lines.join('\n');
}

const REPORT = `
done = function(summary, latency, requests)
  io.write(string.format('BENCH_JSON {"rps":%.1f,"p50":%.3f,"p99":%.3f,"requests":%d,"errors":%d}\\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
`;
