// `npm run bench`: starts nginx (the upstream), PostgreSQL key store with 100,000 keys, a bare
// pass-through proxy (the floor) and prefect-auth-proxy, all on loopback, and measures each scenario
// against the floor in the same run. Writes bench/results.md and bench/results.png.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchSession, benchTokenIssuer } from './lib/identities.mjs';
import { directLookupLatency, keyLookupLatency, seedKeyStore } from './lib/keystore.mjs';
import { microBenchmark } from './lib/micro.mjs';
import { plot } from './lib/plot.mjs';
import { BENCH_DEPLOYMENT_ID, ensureCommand, freePort, startNginx, startNode } from './lib/processes.mjs';
import { sendEvents, startEventSink } from './lib/websocket-bench.mjs';
import { runWrk } from './lib/wrk.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
// Unrecorded load before each measured run, for both the floor and the proxy: without it the first
// second's JIT compilation and connection set-up land in the p99.
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const KEYS = 100_000;
const SERVER_AUTH = 'bench-server-secret';
const auth = { authorization: 'Bearer benchkey-1', 'content-type': 'application/json' };

ensureCommand('wrk', 'wrk');
ensureCommand('nginx', 'nginx-light');
ensureCommand('chromium', 'chromium');

const small = JSON.stringify({ query: 'query Flows { flow(where: {archived: {_eq: false}}) { id name version project { name } } }', operationName: 'Flows', variables: {} });
const batch = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ operationName: `Op${i}`, variables: {}, query: `query Op${i} { flow_run(where: {state: {_eq: "S${i}"}}, limit: 10) { id name state start_time flow { name } } }` })));
const mutation = JSON.stringify({ query: 'mutation { create_flow_run(input: {flow_id: "0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b"}) { id } }', variables: 'null' });
const big = JSON.stringify({ query: `query Big { ${Array.from({ length: 8800 }, (_, i) => `a${i}: flow { id name }`).join(' ')} }` });
const coldScript = `
counter = 0
request = function()
  counter = counter + 1
  local n = (counter % ${KEYS}) + 1
  return wrk.format("POST", "/", { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer benchkey-" .. n }, ${JSON.stringify(small)})
end
-- Stop sending once every key has been seen once (wrk still waits out the duration).
responses = 0
response = function()
  responses = responses + 1
  if responses >= ${KEYS} then wrk.thread:stop() end
end`;

// In-process measurements first, while nothing else competes for the cores.
const micro = microBenchmark(root);
console.log('seeding the key store');
const store = seedKeyStore(root, 'pap_bench', KEYS);
const direct = await directLookupLatency(root, store.url, 5000, KEYS);
console.log('direct key lookups', JSON.stringify(direct));
const nginx = await startNginx();
const eventSink = await startEventSink(SERVER_AUTH);
const ports = { floor: await freePort(), graphql: await freePort(), rest: await freePort(), events: await freePort(), cold: await freePort(), coldMetrics: await freePort(), undiciFloor: await freePort(), restNoCache: await freePort(), identity: await freePort() };
const common = { HOST: '127.0.0.1', DATABASE_URL: store.url, LOG_LEVEL: 'error', LOG_FORMAT: 'json', NODE_ENV: 'production', AUDIT_DB: 'true' };
const floor = await startNode(join(root, 'bench/lib/floor-proxy.mjs'), [], { TARGET: nginx.url, PORT: String(ports.floor) }, `http://127.0.0.1:${ports.floor}/`);
const graphql = await startNode(join(root, 'dist/server.js'), [], { ...common, PORT: String(ports.graphql), API_SERVICE_URL: nginx.url }, `http://127.0.0.1:${ports.graphql}/healthcheck`);
const rest = await startNode(join(root, 'dist/server.js'), [], { ...common, PORT: String(ports.rest), API_KIND: 'rest', API_SERVICE_URL: nginx.url, UPSTREAM_AUTH_STRING: SERVER_AUTH }, `http://127.0.0.1:${ports.rest}/healthcheck`);
// Every narrowed decision asks the upstream for its objects again (OBJECT_CACHE_TTL=0): the cold lookup's cost.
const restNoCache = await startNode(join(root, 'dist/server.js'), [], { ...common, PORT: String(ports.restNoCache), API_KIND: 'rest', API_SERVICE_URL: nginx.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, OBJECT_CACHE_TTL: '0' }, `http://127.0.0.1:${ports.restNoCache}/healthcheck`);
const events = await startNode(join(root, 'dist/server.js'), [], { ...common, PORT: String(ports.events), API_KIND: 'rest', API_SERVICE_URL: eventSink.url, UPSTREAM_AUTH_STRING: SERVER_AUTH }, `http://127.0.0.1:${ports.events}/healthcheck`);
// A process of its own for the cold keys, so its memory shows what 100,000 keys cost, not the 200 KB scenario.
const coldProxy = await startNode(join(root, 'dist/server.js'), [], { ...common, PORT: String(ports.cold), METRICS_PORT: String(ports.coldMetrics), API_SERVICE_URL: nginx.url }, `http://127.0.0.1:${ports.cold}/healthcheck`);
// The same bare pass-through built on undici (the HTTP client the proxy uses): a reference, not the floor.
const undiciFloor = await startNode(join(root, 'bench/lib/floor-proxy-undici.mjs'), [], { TARGET: nginx.url, PORT: String(ports.undiciFloor) }, `http://127.0.0.1:${ports.undiciFloor}/`);
const at = (port) => `http://127.0.0.1:${port}`;
// Sign-in and machine tokens on: a key, a session and a cached verified token, on the same instance.
const issuer = await benchTokenIssuer();
const identity = await startNode(join(root, 'dist/server.js'), [], {
  ...common, PORT: String(ports.identity), API_KIND: 'rest', API_SERVICE_URL: nginx.url, UPSTREAM_AUTH_STRING: SERVER_AUTH,
  SIGN_IN: 'key', PUBLIC_URL: at(ports.identity), TRUSTED_ISSUERS_FILE: issuer.file,
}, `${at(ports.identity)}/healthcheck`);
const sessionCookie = await benchSession(at(ports.identity), 'benchkey-1');
const flowPath = '/api/flows/0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';

const scenarios = [
  { name: 'GraphQL small query', url: at(ports.graphql), request: { method: 'POST', path: '/', headers: auth, body: small } },
  { name: 'GraphQL batch of 10', url: at(ports.graphql), request: { method: 'POST', path: '/', headers: auth, body: batch } },
  { name: 'GraphQL mutation (audit on)', url: at(ports.graphql), request: { method: 'POST', path: '/', headers: auth, body: mutation } },
  { name: 'GraphQL 200 KB document', url: at(ports.graphql), request: { method: 'POST', path: '/', headers: auth, body: big }, connections: 8 },
  { name: 'REST POST flow_runs/filter', url: at(ports.rest), request: { method: 'POST', path: '/api/flow_runs/filter', headers: auth, body: '{"limit":10}' } },
  { name: 'REST GET flows/<id>', url: at(ports.rest), request: { method: 'GET', path: '/api/flows/0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b', headers: { authorization: 'Bearer benchkey-1' } } },
  { name: 'REST create_flow_run, key without selector', url: at(ports.rest), request: { method: 'POST', path: `/api/deployments/${BENCH_DEPLOYMENT_ID}/create_flow_run`, headers: { authorization: 'Bearer benchkey-runner', 'content-type': 'application/json' }, body: '{}' }, noFloor: true },
  { name: 'REST create_flow_run, narrowed key (cached lookup)', url: at(ports.rest), request: { method: 'POST', path: `/api/deployments/${BENCH_DEPLOYMENT_ID}/create_flow_run`, headers: { authorization: 'Bearer benchkey-team-a', 'content-type': 'application/json' }, body: '{}' }, noFloor: true },
  { name: 'REST create_flow_run, narrowed key (cold lookup)', url: at(ports.restNoCache), request: { method: 'POST', path: `/api/deployments/${BENCH_DEPLOYMENT_ID}/create_flow_run`, headers: { authorization: 'Bearer benchkey-team-a', 'content-type': 'application/json' }, body: '{}' }, noFloor: true },
  { name: 'REST denied write (403)', url: at(ports.rest), request: { method: 'POST', path: '/api/flows/', headers: { authorization: 'Bearer benchkey-viewer', 'content-type': 'application/json' }, body: '{"name":"x"}' }, noFloor: true },
];

const rows = [];
for (const s of scenarios) {
  const options = { seconds: SECONDS, connections: s.connections ?? 32 };
  const warmup = { ...options, seconds: WARMUP };
  const measure = async (url) => {
    if (WARMUP > 0) await runWrk(url, s.request, warmup);
    return runWrk(url, s.request, options);
  };
  const floorRun = s.noFloor ? null : await measure(at(ports.floor));
  const run = await measure(s.url);
  rows.push({ name: s.name, rps: run.rps, p50: run.p50, p99: run.p99, errors: run.errors, floorRps: floorRun?.rps ?? null, floorP50: floorRun?.p50 ?? null, floorP99: floorRun?.p99 ?? null, ratio: floorRun ? run.rps / floorRun.rps : null });
  console.log(s.name, JSON.stringify(rows.at(-1)));
}

// A key, a session and a token on one instance, in alternating rounds (the median of each): one
// run after another on a shared machine drifts by more than the 5 % being measured.
const identityScenarios = [
  { name: 'Sign-in on: GET flows/<id> with a key', url: at(ports.identity), request: { method: 'GET', path: flowPath, headers: { authorization: 'Bearer benchkey-1' } }, noFloor: true },
  { name: 'Sign-in on: GET flows/<id> with a session cookie', url: at(ports.identity), request: { method: 'GET', path: flowPath, headers: { cookie: sessionCookie } }, noFloor: true },
  { name: 'Sign-in on: GET flows/<id> with a machine token (cached)', url: at(ports.identity), request: { method: 'GET', path: flowPath, headers: { authorization: `Bearer ${issuer.token}` } }, noFloor: true },
];
const ROUNDS = Number(process.env.BENCH_IDENTITY_ROUNDS ?? 3);
const identityRuns = new Map(identityScenarios.map((s) => [s.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const s of identityScenarios) {
    if (WARMUP > 0) await runWrk(s.url, s.request, { seconds: WARMUP, connections: 32 });
    identityRuns.get(s.name).push(await runWrk(s.url, s.request, { seconds: SECONDS, connections: 32 }));
  }
}
for (const s of identityScenarios) {
  const runs = identityRuns.get(s.name).sort((a, b) => a.rps - b.rps);
  const run = runs[Math.floor(runs.length / 2)];
  rows.push({ name: s.name, rps: run.rps, p50: run.p50, p99: run.p99, errors: runs.reduce((n, r) => n + r.errors, 0), floorRps: null, floorP50: null, floorP99: null, ratio: null });
  console.log(s.name, JSON.stringify({ median: rows.at(-1), all: runs.map((r) => r.rps) }));
}

const undiciRef = await runWrk(at(ports.undiciFloor), scenarios[0].request, { seconds: WARMUP, connections: 32 })
  .then(() => runWrk(at(ports.undiciFloor), scenarios[0].request, { seconds: SECONDS, connections: 32 }));
console.log('undici pass-through', JSON.stringify(undiciRef));

// Cold keys: every request a different key, until 100,000 distinct keys have been seen.
const coldSeconds = Math.max(SECONDS, Number(process.env.BENCH_COLD_SECONDS ?? 130));
const cold = await runWrk(at(ports.cold), coldScript, { seconds: coldSeconds, connections: 32 });
rows.push({ name: 'Cold keys (100k-row table)', rps: cold.rps, p50: cold.p50, p99: cold.p99, errors: cold.errors, floorRps: null, floorP50: null, floorP99: null, ratio: null });
console.log('cold', JSON.stringify(cold));
const coldDistinct = Math.min(KEYS, cold.requests);
const rssAfterCold = coldProxy.rssMb();
const lookups = await keyLookupLatency(`http://127.0.0.1:${ports.coldMetrics}/metrics`);
const rssGraphqlAfterAll = graphql.rssMb();

const eventsPerSecond = await sendEvents(`ws://127.0.0.1:${ports.events}/api/events/in`, 'benchkey-1', 50_000, eventSink);
const eventsDirect = await sendEvents(`${eventSink.url.replace('http', 'ws')}/api/events/in`, SERVER_AUTH, 50_000, eventSink);

await Promise.all([identity.stop(), floor.stop(), undiciFloor.stop(), graphql.stop(), rest.stop(), restNoCache.stop(), events.stop(), coldProxy.stop()]);
nginx.stop();
eventSink.stop();

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} cores (${cpu}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
const f = (v, d = 0) => (v === null || v === undefined ? '–' : v.toFixed(d));
const table = [
  '| Scenario | req/s | p50 ms | p99 ms | floor req/s | floor p50 | floor p99 | throughput vs floor | p99 vs floor |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${f(r.rps)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.floorRps)} | ${f(r.floorP50, 2)} | ${f(r.floorP99, 2)} | ${r.ratio === null ? '–' : `${(r.ratio * 100).toFixed(0)} %`} | ${r.floorP99 ? `${(r.p99 / r.floorP99).toFixed(2)} ×` : '–'} |`),
].join('\n');
// Issue 6's targets, checked against this run.
const row = (name) => rows.find((r) => r.name === name);
const ratioTarget = (name, min) => ({ what: `${name}: throughput ≥ ${min * 100} % of the floor`, value: `${(row(name).ratio * 100).toFixed(0)} %`, met: row(name).ratio >= min });
const p99Target = (name) => ({ what: `${name}: p99 ≤ 1.5 × the floor's`, value: `${(row(name).p99 / row(name).floorP99).toFixed(2)} ×`, met: row(name).p99 <= 1.5 * row(name).floorP99 });
const p50Target = (name) => ({ what: `${name}: p50 ≤ 2 × the floor's`, value: `${(row(name).p50 / row(name).floorP50).toFixed(2)} ×`, met: row(name).p50 <= 2 * row(name).floorP50 });
const targets = [
  ratioTarget('GraphQL small query', 0.75), p99Target('GraphQL small query'),
  ratioTarget('REST POST flow_runs/filter', 0.75), p99Target('REST POST flow_runs/filter'),
  ratioTarget('REST GET flows/<id>', 0.75), p99Target('REST GET flows/<id>'),
  ratioTarget('GraphQL mutation (audit on)', 0.65),
  p50Target('GraphQL batch of 10'), p50Target('GraphQL 200 KB document'),
  {
    what: 'Narrowed key, cached lookup: throughput within 10 % of a key without selector (issue 15)',
    value: `${((row('REST create_flow_run, narrowed key (cached lookup)').rps / row('REST create_flow_run, key without selector').rps) * 100).toFixed(0)} %`,
    met: row('REST create_flow_run, narrowed key (cached lookup)').rps >= 0.9 * row('REST create_flow_run, key without selector').rps,
  },
  ...['session cookie', 'machine token (cached)'].map((kind) => {
    const other = row(`Sign-in on: GET flows/<id> with a ${kind}`).rps;
    const key = row('Sign-in on: GET flows/<id> with a key').rps;
    return { what: `A ${kind}: throughput within 5 % of a key's, same instance (issues 13, 14)`, value: `${((other / key) * 100).toFixed(0)} %`, met: other >= 0.95 * key };
  }),
  { what: 'Cold keys: the lookup uses the index', value: store.plan.startsWith('Index') ? 'index scan' : store.plan, met: store.plan.startsWith('Index') },
  { what: 'Cold keys: lookup p99 < 5 ms on PostgreSQL (one lookup at a time)', value: `${direct.p99.toFixed(2)} ms`, met: direct.p99 < 5 },
  { what: 'Resident memory < 150 MB after 100,000 distinct keys', value: `${rssAfterCold} MB`, met: rssAfterCold < 150 },
  { what: 'Decision for a cached document < 20 µs', value: `${micro.cachedUs.toFixed(2)} µs`, met: micro.cachedUs < 20 },
  { what: 'Parse and check a 10 KB document < 200 µs', value: `${micro.parse10kbUs.toFixed(1)} µs`, met: micro.parse10kbUs < 200 },
];
const targetTable = ['| Target | This run | Met |', '|---|---:|:---:|', ...targets.map((t) => `| ${t.what} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`)].join('\n');

const markdown = `# Benchmark results

${machine}. Generated by \`npm run bench\` (${SECONDS} s per scenario after ${WARMUP} s of unrecorded warm-up, 32 connections, one wrk thread, one proxy process,
nginx with one worker as the upstream, PostgreSQL key store with ${KEYS.toLocaleString('en')} keys). The floor is a bare
Node.js pass-through proxy with a keep-alive agent, measured in the same run with the same request.

${table}

${targetTable}

- Cold keys: ${coldDistinct.toLocaleString('en')} distinct keys looked up, each request a different key (cache misses; wrk stops
  sending after ${KEYS.toLocaleString('en')}, so the req/s of that row is requests over the whole ${coldSeconds} s window); key lookup plan: \`${store.plan}\`.
- Key store lookups one at a time (5,000 random keys through the proxy's key store code, one connection): p50 ${direct.p50.toFixed(2)} ms, p99 ${direct.p99.toFixed(2)} ms.
- Key store lookups during the cold-key run (the proxy's \`key_store_lookup_seconds\` histogram, pool wait included): ${lookups.count.toLocaleString('en')} lookups, ${lookups.within5ms.toFixed(2)} % within 5 ms, p99 ${lookups.p99Text}.
- Resident memory after ${coldDistinct.toLocaleString('en')} distinct keys (a proxy process that served only the cold-key run): ${rssAfterCold} MB.
  The GraphQL proxy that ran every other GraphQL scenario (including the 200 KB documents): ${rssGraphqlAfterAll} MB.
- Reference: the same bare pass-through built on undici (the HTTP client the proxy uses) answers the small GraphQL query at ${undiciRef.rps.toFixed(0)} req/s, p99 ${undiciRef.p99.toFixed(2)} ms. The floor stays the \`http.Agent\` pass-through issue 6 defines.
- Websocket \`/api/events/in\`: ${eventsPerSecond.toLocaleString('en')} events/s through the proxy; ${eventsDirect.toLocaleString('en')} events/s straight to the stand-in server.
- Authorization decision alone: ${micro.cachedUs.toFixed(2)} µs for a cached document; ${micro.parse10kbUs.toFixed(1)} µs to parse and check a ${(micro.bigBytes / 1024).toFixed(1)} KB document.

![benchmark](results.png)
`;
writeFileSync(join(root, 'bench/results.md'), markdown);
await plot(root, rows, join(root, 'bench/results.png'), machine);
console.log(markdown);
execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-q', '-d', 'postgres', '-c', 'DROP DATABASE IF EXISTS pap_bench WITH (FORCE)']);
