import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The `bin/` of a pinned virtual environment from scripts/setup-test-env.mjs, created if missing. */
export function ensureVenv(name: string): string {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'setup-test-env.mjs'), name], { stdio: 'inherit' });
  return join(ROOT, '.cache', 'venvs', name, 'bin');
}
