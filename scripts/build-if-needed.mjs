// `npm start` must work on a fresh clone: compile once when dist/ is missing or older than src/.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

const built = 'dist/server.js';
const stale = !existsSync(built) || (existsSync('src') && newestMtime('src') > statSync(built).mtimeMs);
if (stale) {
  if (!existsSync('node_modules/typescript')) {
    console.error('dist/ is missing and TypeScript is not installed: run `npm ci` first.');
    process.exit(1);
  }
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
