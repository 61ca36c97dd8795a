// Creates the Python environments the end-to-end tests use (the real Prefect clients) under
// .cache/venvs/, once per set of pins. `.ci/run` calls it before the tests so that installing
// never eats into a test's timeout; the tests call it too, so `npm test` alone works.
// Usage: node scripts/setup-test-env.mjs [name ...]   (no name: all)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venvs = {
  prefect1: ['prefect==1.4.1'],
  prefect2: ['prefect==2.20.26'],
  // FastAPI releases after 0.150 drop `min_items`, which Prefect 3.8.8's server still uses.
  prefect3: ['prefect==3.8.8', 'fastapi==0.150.0'],
};

const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(venvs);
for (const name of names) {
  const requirements = venvs[name];
  if (!requirements) throw new Error(`unknown environment ${name}`);
  const dir = join(root, '.cache', 'venvs', name);
  const stamp = join(dir, '.requirements');
  const wanted = requirements.join('\n');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) continue;
  console.log(`creating ${dir} with ${requirements.join(' ')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  execFileSync(process.env.PYTHON ?? 'python3', ['-m', 'venv', dir], { stdio: 'inherit' });
  execFileSync(join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...requirements], { stdio: 'inherit' });
  writeFileSync(stamp, wanted);
}
