import ignore from '@balena/dockerignore';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';

/** The build context as `docker build .` sends it: the directory, less what `.dockerignore` excludes. */
export interface BuildContext {
  readonly root: string;
  /** Path relative to the context root, `/`-separated. */
  excludes(path: string): boolean;
  /** With `!` exceptions an excluded directory may still hold included files, so it must be walked. */
  readonly hasExceptions: boolean;
}

export function openBuildContext(root: string): BuildContext {
  const file = join(root, '.dockerignore');
  const patterns = existsSync(file) ? readFileSync(file, 'utf8').split(/\r?\n/) : [];
  // Docker matches case-sensitively on Linux; the library's default is case-insensitive, like node-ignore's.
  const matcher = ignore({ ignorecase: false }).add(patterns);
  return { root, excludes: (path) => matcher.ignores(path), hasExceptions: patterns.some((p) => p.trim().startsWith('!')) };
}

export class CopyError extends Error {}

/**
 * COPY's rules for where a source lands: several sources need a destination ending in `/`; a
 * directory's contents (not the directory) are copied; a file goes into a destination directory
 * under its own name, or becomes the destination.
 */
export function copyInto(sources: readonly string[], dest: string, destAbs: string, copyOne: (source: string, target: string, asDirectory: boolean) => void): void {
  const destIsDir = dest.endsWith('/') || (existsSync(destAbs) && statSync(destAbs).isDirectory());
  if (sources.length > 1 && !dest.endsWith('/')) throw new CopyError(`COPY ${sources.join(' ')} ${dest}: with more than one source the destination must end with /`);
  for (const source of sources) copyOne(source, destAbs, destIsDir);
}

/** COPY from the build context: missing or excluded sources fail the build, as they do with BuildKit. */
export function copyFromContext(context: BuildContext, source: string, destAbs: string, destIsDir: boolean): void {
  const rel = posix.normalize(source).replace(/^\/+/, '');
  if (rel.startsWith('..')) throw new CopyError(`COPY ${source}: outside the build context`);
  const abs = join(context.root, rel);
  const excluded = rel !== '.' && context.excludes(rel);
  if (!existsSync(abs) || (excluded && !context.hasExceptions)) throw new CopyError(`COPY ${source}: not found in the build context${excluded ? ' (excluded by .dockerignore)' : ''}`);
  if (!lstatSync(abs).isDirectory()) {
    if (excluded) throw new CopyError(`COPY ${source}: excluded by .dockerignore`);
    copyEntry(abs, destIsDir ? join(destAbs, basename(rel)) : destAbs);
    return;
  }
  mkdirSync(destAbs, { recursive: true });
  copyTree(context, abs, rel === '.' ? '' : rel, destAbs);
}

function copyTree(context: BuildContext, dir: string, rel: string, destDir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    const excluded = context.excludes(childRel);
    if (entry.isDirectory()) {
      if (excluded && !context.hasExceptions) continue;
      if (!excluded) mkdirSync(join(destDir, entry.name), { recursive: true });
      copyTree(context, join(dir, entry.name), childRel, join(destDir, entry.name));
    } else if (!excluded) {
      copyEntry(join(dir, entry.name), join(destDir, entry.name));
    }
  }
}

/** COPY --from=stage: the other stage's files as they are, symbolic links kept as links. */
export function copyFromStage(stageRoot: string, source: string, destAbs: string, destIsDir: boolean): void {
  const abs = join(stageRoot, posix.resolve('/', source));
  if (!existsSync(abs)) throw new CopyError(`COPY --from: ${source} not found in that stage`);
  const target = !lstatSync(abs).isDirectory() && destIsDir ? join(destAbs, basename(abs)) : destAbs;
  copyEntry(abs, target);
}

function copyEntry(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  // Files keep their mode; the copy is owned by whoever assembles (root, as in `docker build`).
  cpSync(from, to, { recursive: true, verbatimSymlinks: true, force: true });
}
