import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');

// ESLint loads its .mjs config with a dynamic import, which Jest's module system cannot run: lint in
// a child process, all cases at once.
const LINT = `
const { ESLint } = require('eslint');
const cases = JSON.parse(process.argv[1]);
const eslint = new ESLint({ cwd: process.cwd() });
(async () => {
  const out = [];
  for (const [path, code] of cases) {
    const [result] = await eslint.lintText(code, { filePath: require('node:path').join(process.cwd(), path) });
    out.push(result.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})();
`;

const refused: Array<[string, string, RegExp]> = [
  ['src/admin/x.ts', "import { sha256Hex } from '../keys/hash';\nexport const x = sha256Hex;\n", /through its face/],
  ['src/proxy/rest/x.ts', "import { scopeOf } from '../../http/request-scope';\nexport const x = scopeOf;\n", /through its face/],
  ['src/x.ts', "import { attachWebsockets } from './proxy/rest/websocket';\nexport const x = attachWebsockets;\n", /through its face/],
  ['src/admin/x.ts', "import knex from 'knex';\nexport const x = knex;\n", /src\/storage/],
  ['src/invalidation/x.ts', "import { Client } from 'pg';\nexport const x = Client;\n", /src\/storage/],
  ['src/keys/x.ts', "import Database from 'better-sqlite3';\nexport const x = Database;\n", /src\/storage/],
  ['src/http/x.ts', "import express from 'express';\nexport const x = express;\n", /admin routes/],
  ['src/x.ts', "import type { Request } from 'express';\nexport type X = Request;\n", /admin routes/],
];

const allowed: Array<[string, string]> = [
  ['src/admin/x.ts', "import { sha256Hex } from '../keys';\nexport const x = sha256Hex;\n"],
  ['src/proxy/x.ts', "import { classifyRest } from '../authz/rest';\nexport const x = classifyRest;\n"],
  ['src/proxy/rest/x.ts', "import type { DialectProxy } from '../graphql/router';\nexport type X = DialectProxy;\n"],
  ['src/storage/x.ts', "import knex from 'knex';\nexport const x = knex;\n"],
  ['src/invalidation/postgres-bus.ts', "import { Client } from 'pg';\nexport const x = Client;\n"],
  ['src/admin/x.ts', "import express from 'express';\nexport const x = express;\n"],
  ['src/http/x.ts', "import type { Request } from 'express';\nexport type X = Request;\n"],
  ['test/unit/x.test.ts', "import { sha256Hex } from '../../src/keys/hash';\nexport const x = sha256Hex;\n"],
];

let results: string[][] = [];
beforeAll(() => {
  const cases = [...refused, ...allowed].map(([path, code]) => [path, code]);
  results = JSON.parse(execFileSync(process.execPath, ['-e', LINT, JSON.stringify(cases)], { cwd: ROOT, encoding: 'utf8' })) as string[][];
}, 60_000);

describe('folder boundaries (eslint.config.mjs)', () => {
  it.each(refused.map((c, i) => [...c, i] as const))('refuses in %s: %j', (_path, _code, message, i) => {
    expect(results[i]).toEqual([expect.stringMatching(message)]);
  });

  it.each(allowed.map((c, i) => [...c, refused.length + i] as const))('allows in %s: %j', (_path, _code, i) => {
    expect(results[i]).toEqual([]);
  });
});
