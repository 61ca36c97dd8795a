import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { AssembledImage } from './assemble';
import { hostPath } from './assemble';
import type { HostUser } from './run-step';

export interface ContainerOptions {
  /** `docker run -e`: added to the image's ENV. */
  readonly env: Record<string, string>;
  /** Host account for the image's USER; null runs as the current user (when not root). */
  readonly user: HostUser | null;
}

export interface Container {
  readonly pid: number;
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment a process in the container sees: the image's ENV, its PATH mapped onto the host. */
export function containerEnv(image: AssembledImage, options: ContainerOptions): Record<string, string> {
  const env: Record<string, string> = { ...image.config.env, HOME: '/home/node', ...options.env };
  return { ...env, HOME: join(image.rootfs, env.HOME ?? '/'), PATH: hostPath(image.rootfs, env.PATH ?? '') };
}

/** `setpriv` drops to the account with no supplementary groups, as `USER node` does. */
function asUser(user: HostUser | null, argv: readonly string[]): [string, string[]] {
  if (!user) return [argv[0] as string, argv.slice(1)];
  return ['/usr/bin/setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...argv]];
}

/** `docker run` of the image's CMD. */
export function startContainer(image: AssembledImage, options: ContainerOptions): Container {
  if (!image.config.cmd) throw new Error('the image has no CMD');
  const [file, args] = asUser(options.user, image.config.cmd);
  const child: ChildProcess = spawn(file, args, { cwd: join(image.rootfs, image.config.workdir), env: containerEnv(image, options), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    pid: child.pid as number,
    output: () => out,
    exited,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** `docker exec`: same user, environment and working directory as the CMD. */
export function execInContainer(image: AssembledImage, argv: readonly string[], options: ContainerOptions): Promise<ExecResult> {
  const [file, args] = asUser(options.user, argv);
  return new Promise((resolve) => {
    execFile(file, args, { cwd: join(image.rootfs, image.config.workdir), env: containerEnv(image, options), timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Takes write permission off everything in the image except what the Dockerfile gave a user: as
 * root the files are root's already, and this also holds when the test cannot switch users.
 */
export function makeReadOnly(image: AssembledImage): void {
  const writable = new Set([...image.granted, '/home/node']);
  const walk = (path: string): void => {
    if (writable.has(path)) return;
    const abs = join(image.rootfs, path);
    const stat = lstatSync(abs);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) for (const name of readdirSync(abs)) walk(posix.join(path, name));
    chmodSync(abs, stat.mode & ~0o222);
  };
  walk('/');
}

/** Gives write permission back so the scratch directory can be removed by a non-root user. */
export function makeWritable(root: string): void {
  const stat = lstatSync(root);
  if (stat.isSymbolicLink()) return;
  chmodSync(root, stat.mode | 0o200);
  if (stat.isDirectory()) for (const name of readdirSync(root)) makeWritable(join(root, name));
}
