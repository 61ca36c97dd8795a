// Regenerates the configuration table in docs/configuration.md and .env.example from
// src/config/spec.ts (via dist/), so documentation follows the code. A unit test fails when they drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { variables } = require('../dist/config/spec.js');

const rows = variables.map((v) => {
  const value = v.default === undefined ? '' : `\`${v.default}\``;
  const secret = v.secret ? ` Also \`${v.name}_FILE\`.` : '';
  return `| \`${v.name}\` | ${value} | ${v.description}${secret} |`;
});
const table = ['| Variable | Default | Description |', '|---|---|---|', ...rows].join('\n');
const page = 'docs/configuration.md';
const doc = readFileSync(page, 'utf8');
const start = '<!-- config-table:start -->';
const end = '<!-- config-table:end -->';
if (!doc.includes(start) || !doc.includes(end)) throw new Error(`${page} has lost its ${start} / ${end} markers`);
const before = doc.slice(0, doc.indexOf(start) + start.length);
const after = doc.slice(doc.indexOf(end));
writeFileSync(page, `${before}\n${table}\n${after}`);

let env = '# prefect-auth-proxy configuration. Copy to .env; real environment variables win over this file.\n'
  + '# Every variable is documented in docs/configuration.md; examples/ has one file per Prefect generation.\n'
  + '# Secrets can also come from <NAME>_FILE (for example DB_PASSWORD_FILE=/run/secrets/db_password).\n\n';
for (const v of variables) {
  env += `# ${v.description.replace(/`/g, '')}\n`;
  env += v.default === undefined ? `# ${v.name}=\n\n` : `${v.name}=${v.default}\n\n`;
}
writeFileSync('.env.example', env);
