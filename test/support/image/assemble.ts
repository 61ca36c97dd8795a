import { createHash } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { BuildContext } from './copy';
import { copyFromContext, copyFromStage, copyInto, CopyError } from './copy';
import type { Stage } from './plan';
import { planImage, UnsupportedInstruction } from './plan';
import type { HostUser } from './run-step';
import { runCommand } from './run-step';

/** What `docker inspect` would show of an image: enough to run it. */
export interface ImageConfig {
  readonly env: Record<string, string>;
  readonly workdir: string;
  readonly user: string;
  readonly cmd: readonly string[] | null;
  readonly healthcheck: readonly string[] | null;
}

export interface AssembledImage {
  /** The image's `/`, on the host. */
  readonly rootfs: string;
  readonly config: ImageConfig;
  /** Paths inside the image the Dockerfile gave to a user with `chown`. */
  readonly granted: readonly string[];
  readonly notes: readonly string[];
}

export interface AssemblerOptions {
  readonly context: BuildContext;
  /** Where stages are assembled; the caller removes it. */
  readonly scratch: string;
  /** The base image's users (`node`, `root`) as host accounts; null when not running as root. */
  readonly users: ReadonlyMap<string, HostUser> | null;
  /** Added to RUN environments only: npm cache, native build settings. Never reaches the running image. */
  readonly buildEnv: Record<string, string>;
}

/** The base image's PATH: https://github.com/nodejs/docker-node keeps Debian's default. */
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The only base images this stand-in can imitate: their Node.js is the host's. */
const NODE_IMAGE = /^node:[\w.-]+$/;

/**
 * A PATH for the host that finds programs the way the image would: the assembled root's directories
 * first, then the host's Node.js (the base image's `node`, which the root here does not contain).
 */
export function hostPath(rootfs: string, imagePath: string, extra: readonly string[] = []): string {
  return [...imagePath.split(':').map((dir) => join(rootfs, dir)).filter(existsSync), dirname(process.execPath), ...extra].join(':');
}

/**
 * Runs a Dockerfile's stages as `docker build` would, without a container runtime: each stage a
 * directory standing for its `/`. Stages are cached by their instructions and base, like build
 * layers, so two Dockerfiles that differ only in the last stage share the expensive ones. The
 * cache assumes the build context does not change while the assembler lives.
 */
export function createAssembler(options: AssemblerOptions): { assemble(dockerfile: string): Promise<AssembledImage> } {
  const cache = new Map<string, Promise<AssembledImage>>();
  let counter = 0;

  async function buildStage(stage: Stage, parent: AssembledImage | null, built: ReadonlyMap<string, AssembledImage>): Promise<AssembledImage> {
    const rootfs = join(options.scratch, `stage-${++counter}`);
    const notes = [...(parent?.notes ?? [])];
    const granted = [...(parent?.granted ?? [])];
    let config: ImageConfig;
    if (parent) {
      cpSync(parent.rootfs, rootfs, { recursive: true, verbatimSymlinks: true });
      config = { ...parent.config, env: { ...parent.config.env } };
    } else {
      if (!NODE_IMAGE.test(stage.base)) throw new UnsupportedInstruction(`FROM ${stage.base}: only node:* base images are imitated`);
      notes.push(`FROM ${stage.base}: stood in by an empty root and this machine's Node.js ${process.version}`);
      mkdirSync(join(rootfs, 'usr/local/bin'), { recursive: true });
      // The base image's `node` user has a home directory it owns.
      mkdirSync(join(rootfs, 'home/node'), { recursive: true });
      const node = options.users?.get('node');
      if (node) chownSync(join(rootfs, 'home/node'), node.uid, node.gid);
      config = { env: { PATH: BASE_PATH }, workdir: '/', user: 'root', cmd: null, healthcheck: null };
    }
    const env = config.env;
    for (const step of stage.steps) {
      switch (step.kind) {
        case 'workdir':
          config = { ...config, workdir: posix.resolve(config.workdir, step.path) };
          mkdirSync(join(rootfs, config.workdir), { recursive: true });
          break;
        case 'env':
          env[step.name] = step.value;
          break;
        case 'user':
          config = { ...config, user: step.user };
          break;
        case 'cmd':
          config = { ...config, cmd: step.argv };
          break;
        case 'healthcheck':
          config = { ...config, healthcheck: step.argv };
          break;
        case 'copy': {
          const destAbs = join(rootfs, posix.resolve(config.workdir, step.dest));
          const from = step.from;
          const source = from === null ? null : built.get(from);
          if (from !== null && !source) throw new UnsupportedInstruction(`Dockerfile line ${step.line}: COPY --from=${from} names no earlier stage`);
          try {
            copyInto(step.sources, step.dest, destAbs, (src, dest, asDir) =>
              source ? copyFromStage(source.rootfs, src, dest, asDir) : copyFromContext(options.context, src, dest, asDir));
          } catch (err) {
            if (err instanceof CopyError) err.message = `Dockerfile line ${step.line}: ${err.message}`;
            throw err;
          }
          break;
        }
        case 'run': {
          // npm comes with the host's Node.js, as it comes with the base image's.
          const runEnv = { ...options.buildEnv, ...env, PATH: hostPath(rootfs, env.PATH ?? BASE_PATH) };
          for (const argv of step.commands) {
            await runCommand(argv, { rootfs, workdir: config.workdir, env: runEnv, users: options.users, notes, granted }, step.line);
          }
          break;
        }
      }
    }
    return { rootfs, config: { ...config, env }, granted, notes };
  }

  return {
    async assemble(dockerfile) {
      // Stages of this Dockerfile by name, for FROM <stage> and COPY --from, and their cache keys.
      const built = new Map<string, AssembledImage>();
      const keys = new Map<string, string>();
      let last: AssembledImage | null = null;
      for (const stage of planImage(dockerfile)) {
        const parentKey = keys.get(stage.base);
        const fromKeys = stage.steps.map((s) => (s.kind === 'copy' && s.from !== null ? keys.get(s.from) ?? s.from : null));
        const steps = stage.steps.map((s) => ('line' in s ? { ...s, line: 0 } : s));
        const key = createHash('sha256').update(JSON.stringify([parentKey ?? stage.base, fromKeys, steps])).digest('hex');
        let result = cache.get(key);
        if (!result) {
          result = buildStage(stage, parentKey ? (built.get(stage.base) as AssembledImage) : null, built);
          cache.set(key, result);
        }
        last = await result;
        if (stage.name) {
          built.set(stage.name, last);
          keys.set(stage.name, key);
        }
      }
      if (!last) throw new UnsupportedInstruction('Dockerfile without FROM');
      return last;
    },
  };
}
