import { execFile } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { UnsupportedInstruction } from './plan';

/** A host account standing in for a user of the base image. */
export interface HostUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface RunContext {
  readonly rootfs: string;
  /** WORKDIR inside the image. */
  readonly workdir: string;
  /** Environment of the RUN: the image's ENV, PATH already pointing into the assembled root. */
  readonly env: Record<string, string>;
  /** Image user names to host accounts; null when not root, so ownership cannot be given away. */
  readonly users: ReadonlyMap<string, HostUser> | null;
  /** What was skipped or only approximated, for the report. */
  readonly notes: string[];
  /** Paths inside the image handed to a user by `chown`: the only places that stay writable. */
  readonly granted: string[];
}

/** Installs OS packages into the base image, which this stand-in does not have. */
const isOsPackageCommand = (argv: readonly string[]): boolean =>
  ['apt-get', 'apt', 'dpkg'].includes(argv[0] ?? '') || (argv[0] === 'rm' && argv.slice(2).every((p) => p.startsWith('/var/lib/apt/lists')));

/**
 * Carries out one command of a RUN `a && b` list. Known commands only: an unknown one throws, so
 * the image test fails when the Dockerfile grows a step it would otherwise not reproduce.
 */
export async function runCommand(argv: readonly string[], ctx: RunContext, line: number): Promise<void> {
  const [command, ...args] = argv;
  const inImage = (path: string) => join(ctx.rootfs, posix.resolve(ctx.workdir, path));
  if (isOsPackageCommand(argv)) {
    ctx.notes.push(`line ${line}: skipped \`${argv.join(' ')}\` (OS packages of the base image)`);
    return;
  }
  switch (command) {
    case 'npm':
      await execute('npm', args, join(ctx.rootfs, ctx.workdir), ctx.env, line);
      return;
    case 'chown': {
      const [owner, ...paths] = args;
      const [user, group = user] = (owner ?? '').split(':');
      ctx.granted.push(...paths.map((p) => posix.resolve(ctx.workdir, p)));
      if (!ctx.users) {
        ctx.notes.push(`line ${line}: skipped \`${argv.join(' ')}\` (not root)`);
        return;
      }
      const host = ctx.users.get(user ?? '');
      const hostGroup = ctx.users.get(group ?? '');
      if (!host || !hostGroup || paths.length === 0 || paths.some((p) => p.startsWith('-'))) throw unsupportedCommand(argv, line);
      for (const path of paths) chownSync(inImage(path), host.uid, hostGroup.gid);
      return;
    }
    case 'chmod': {
      const [mode, ...paths] = args;
      if (mode !== '+x' || paths.length === 0) throw unsupportedCommand(argv, line);
      for (const path of paths) chmodSync(inImage(path), lstatSync(inImage(path)).mode | 0o111);
      return;
    }
    case 'ln': {
      const [flag, target, link] = args;
      if (flag !== '-s' || !target || !link || args.length !== 3) throw unsupportedCommand(argv, line);
      // An absolute target means the image's root, which here is the assembled directory.
      symlinkSync(target.startsWith('/') ? join(ctx.rootfs, target) : target, inImage(link));
      return;
    }
    case 'mkdir': {
      const [flag, ...paths] = args;
      if (flag !== '-p' || paths.length === 0) throw unsupportedCommand(argv, line);
      for (const path of paths) mkdirSync(inImage(path), { recursive: true });
      return;
    }
    default:
      throw unsupportedCommand(argv, line);
  }
}

function execute(file: string, args: readonly string[], cwd: string, env: Record<string, string>, line: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`Dockerfile line ${line}: \`${file} ${args.join(' ')}\` failed (${err.code ?? err.message})\n${stdout.slice(-4000)}${stderr.slice(-4000)}`));
      else resolve();
    });
  });
}

function unsupportedCommand(argv: readonly string[], line: number): UnsupportedInstruction {
  return new UnsupportedInstruction(`Dockerfile line ${line}: RUN \`${argv.join(' ')}\` is not reproduced by test/support/image/run-step.ts; teach it before relying on it`);
}
