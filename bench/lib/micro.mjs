// The authorization decision alone, in process: a cached document, and parsing + checking a 10 KB one.
import { createRequire } from 'node:module';
import { join } from 'node:path';

export function microBenchmark(root) {
  const require = createRequire(join(root, 'package.json'));
  const { compileScopes } = require('./dist/authz/index.js');
  const { analyzeDocument, createDocumentCache, decideDocument } = require('./dist/authz/graphql/index.js');
  const scopes = compileScopes(['query/*', 'mutation/create_flow_run', 'mutation/set_flow_run_states']);
  const cache = createDocumentCache(100_000);
  const small = 'query FlowRuns { flow_run(where: {state: {_eq: "Running"}}) { id name state } }';
  // A dashboard-like query of 10 KB (the target names 10 KB): 128 aliased aggregate fields.
  const big = `query Dashboard { ${Array.from({ length: 128 }, (_, i) => `a${i}: flow_run_aggregate(where: {state: {_eq: "S${i}"}}) { aggregate { count } }`).join(' ')} }`;

  const time = (iterations, fn) => {
    for (let i = 0; i < Math.min(1000, iterations); i++) fn(i);
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    return Number(process.hrtime.bigint() - started) / iterations / 1000;
  };
  return {
    cachedUs: time(200_000, () => decideDocument(cache.analyze(small), scopes)),
    parse10kbUs: time(2_000, (i) => decideDocument(analyzeDocument(`${big} # ${i}`, 100_000), scopes)),
    bigBytes: big.length,
  };
}
