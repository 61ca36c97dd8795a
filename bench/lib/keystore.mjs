// A PostgreSQL key store with 100,000 hashed keys, made with the shipped schema and the CLI's migrations.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const PSQL = ['-h', '127.0.0.1', '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q'];

export function seedKeyStore(root, database, count) {
  execFileSync('psql', [...PSQL, '-d', 'postgres', '-c', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, '-c', `CREATE DATABASE ${database}`]);
  execFileSync('psql', [...PSQL, '-d', database], { input: readFileSync(join(root, 'data/postgres/db_init.sql')) });
  const url = `postgres://postgres@127.0.0.1:5432/${database}`;
  execFileSync(process.execPath, [join(root, 'dist/cli/main.js'), 'db', 'migrate'], { env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
  execFileSync('psql', [...PSQL, '-d', database, '-c', `
    INSERT INTO prefect_api_keys
    SELECT 'user-' || i, 'query/* mutation/* read/* write/*',
           'sha256:' || encode(sha256(convert_to('benchkey-' || i, 'UTF8')), 'hex'),
           now(), now() + interval '1 day', now(), now(), 'bench', 'bench'
    FROM generate_series(1, ${count}) AS i;
    INSERT INTO prefect_api_keys VALUES ('viewer', 'role:viewer',
           'sha256:' || encode(sha256(convert_to('benchkey-viewer', 'UTF8')), 'hex'),
           now(), now() + interval '1 day', now(), now(), 'bench', 'bench');
    INSERT INTO prefect_api_keys VALUES ('runner', 'role:runner',
           'sha256:' || encode(sha256(convert_to('benchkey-runner', 'UTF8')), 'hex'),
           now(), now() + interval '1 day', now(), now(), 'bench', 'bench');
    INSERT INTO prefect_api_keys VALUES ('team-a-runner', 'role:runner@deployment:team-a/*',
           'sha256:' || encode(sha256(convert_to('benchkey-team-a', 'UTF8')), 'hex'),
           now(), now() + interval '1 day', now(), now(), 'bench', 'bench');
    ANALYZE prefect_api_keys;`]);
  const plan = execFileSync('psql', [...PSQL, '-d', database, '-At', '-c',
    "EXPLAIN SELECT user_id FROM prefect_api_keys WHERE api_key IN ('a', 'sha256:b')"]).toString();
  return { url, plan: plan.trim().split('\n')[0] };
}

/** p99 and share within 5 ms of key store lookups, from a proxy's Prometheus histogram. */
export async function keyLookupLatency(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  const buckets = [...text.matchAll(/^prefect_auth_proxy_key_store_lookup_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)]
    .map((m) => ({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) }));
  const count = buckets.at(-1)?.count ?? 0;
  const within5ms = count ? ((buckets.find((b) => b.le === 0.005)?.count ?? 0) / count) * 100 : 0;
  const p99 = buckets.find((b) => b.count >= count * 0.99);
  return { count, within5ms, p99Text: !p99 ? 'n/a' : p99.le === Infinity ? 'over 5 s' : `≤ ${p99.le * 1000} ms (histogram bucket)` };
}

/** Lookups of `count` distinct keys one after another through the proxy's own key store code: p50 and p99 in ms. */
export async function directLookupLatency(root, url, count, total) {
  const require = createRequire(join(root, 'package.json'));
  const knex = require('knex')({ client: 'pg', connection: url, pool: { min: 1, max: 1 } });
  const { hashedKeyValue } = require('./dist/keys/index.js');
  const { createKnexKeyStore } = require('./dist/storage/index.js');
  const store = createKnexKeyStore(knex, 'postgres', 5000);
  const times = [];
  for (let i = 0; i < count + 200; i++) {
    const key = `benchkey-${1 + Math.floor(Math.random() * total)}`;
    const started = performance.now();
    const rows = await store.findValidKeys([key, hashedKeyValue(key)]);
    if (i >= 200) times.push(performance.now() - started);
    if (rows.length !== 1) throw new Error(`lookup of ${key} found ${rows.length} rows`);
  }
  await store.close();
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { count, p50: at(0.5), p99: at(0.99) };
}
