import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm ci` in the image gets better-sqlite3's prebuilt binary from its GitHub release through
 * prebuild-install. This machine cannot download it and would compile SQLite twice (about two
 * minutes each), so the binary the project's own `npm ci` built is offered to prebuild-install as a
 * local prebuild, the same file under the name it looks for. Returns the npm settings that point
 * prebuild-install at it, or none when the installed copy is not the locked version (then npm
 * compiles, as with `IMAGE_TEST_COMPILE_NATIVE=1`).
 */
export function localPrebuilds(projectRoot: string, dir: string): Record<string, string> {
  if (process.env.IMAGE_TEST_COMPILE_NATIVE === '1') return {};
  const installed = join(projectRoot, 'node_modules', 'better-sqlite3');
  const binary = join(installed, 'build', 'Release', 'better_sqlite3.node');
  const lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const locked = lock.packages['node_modules/better-sqlite3']?.version;
  const version = (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string }).version;
  if (!existsSync(binary) || version !== locked) return {};
  mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
  execFileSync('cp', [binary, join(dir, 'build', 'Release')]);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['-czf', join(dir, name), '-C', dir, 'build']);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}
