import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssembledImage } from '../support/image/assemble';
import { createAssembler } from '../support/image/assemble';
import type { Container, ContainerOptions, ExecResult } from '../support/image/container';
import { execInContainer, makeReadOnly, makeWritable, startContainer } from '../support/image/container';
import { openBuildContext } from '../support/image/copy';
import { localPrebuilds } from '../support/image/native-prebuilt';
import { withoutInstructions } from '../support/image/plan';
import type { HostUser } from '../support/image/run-step';
import { freePort } from '../support/prefect3-server';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';

/**
 * The Dockerfile carried out without Docker (no base image can be pulled here): each stage's COPY
 * and .dockerignore decide which files exist, its npm commands run on them, and the final CMD runs
 * as an unprivileged user from a read-only application directory. A file the service needs that no
 * COPY brings makes this fail, as it would make the real image fail.
 */
const ROOT = join(__dirname, '..', '..');
// IMAGE_TEST_DOCKERFILE runs the same checks on a scratch copy, e.g. one with a line removed.
const DOCKERFILE = readFileSync(process.env.IMAGE_TEST_DOCKERFILE ?? join(ROOT, 'Dockerfile'), 'utf8');
// Two npm installs and a TypeScript build: about two minutes on this 2-core machine, more when it is busy.
const BUILD_TIMEOUT = 420_000;

/** The image's USER `node` is played by `nobody`; switching users needs root, so otherwise the test runs as itself. */
const hostId = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
const RUN_AS: HostUser | null = process.getuid?.() === 0 ? { name: 'nobody', uid: hostId('-u'), gid: hostId('-g') } : null;
const USERS = RUN_AS ? new Map([['node', RUN_AS], ['root', { name: 'root', uid: 0, gid: 0 }]]) : null;

const scratch = mkdtempSync(join(tmpdir(), 'pap-image-'));
// mkdtemp makes a private directory; the unprivileged user must be able to reach the image inside it.
chmodSync(scratch, 0o755);
mkdirSync(join(scratch, 'prebuilds'));
const assembler = createAssembler({
  context: openBuildContext(ROOT),
  scratch,
  users: USERS,
  buildEnv: {
    // This machine's npm cache and native build settings, as `docker build` would have its own.
    HOME: process.env.HOME ?? '/root',
    npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...localPrebuilds(ROOT, join(scratch, 'prebuilds')),
  },
});

const started: Container[] = [];

/** Polls /healthcheck until it answers 200; fails with the service's output when it exits or never answers. */
async function waitUntilHealthy(container: Container, url: string, timeoutMs = 20_000): Promise<void> {
  let exited = false;
  void container.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited) {
    const ok = await fetch(`${url}/healthcheck`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service did not become healthy (${exited ? 'it exited' : 'timed out'}):\n${container.output()}`);
}

async function runImage(image: AssembledImage, env: Record<string, string>): Promise<{ container: Container; url: string; options: ContainerOptions }> {
  const port = await freePort();
  const options = { env: { ...env, HOST: '127.0.0.1', PORT: String(port) }, user: RUN_AS };
  const container = startContainer(image, options);
  started.push(container);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilHealthy(container, url);
  } catch (err) {
    await container.stop();
    throw err;
  }
  return { container, url, options };
}

afterAll(async () => {
  // Also the services of a test that timed out before its own clean-up could run.
  await Promise.all(started.map((c) => c.stop()));
  makeWritable(scratch);
  rmSync(scratch, { recursive: true, force: true });
});

describe('the build context', () => {
  // Docker's rules, not .gitignore's: a bare name is anchored at the root, matching is case-sensitive.
  it.each([
    ['node_modules/express/index.js', true],
    ['dist/server.js', true],
    ['.env', true],
    ['data/prefect-auth-proxy.sqlite3-wal', true],
    ['test/deploy/image.test.ts', true],
    ['src/server.ts', false],
    ['src/node_modules/x.js', false],
    ['data/postgres/db_init.sql', false],
    ['DIST/server.js', false],
  ])('%s excluded: %s', (path, excluded) => {
    expect(openBuildContext(ROOT).excludes(path)).toBe(excluded);
  });
});

describe('the container image, assembled from the Dockerfile', () => {
  let upstream: RecordingUpstream;
  let image: AssembledImage;
  let running: Awaited<ReturnType<typeof runImage>>;

  let firstKey: ExecResult;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    image = await assembler.assemble(DOCKERFILE);
    makeReadOnly(image);
    const env = { API_SERVICE_URL: upstream.url };
    // An operator's first command, `docker run --rm image prefect-auth-proxy keys create`, on an empty data volume.
    firstKey = await execInContainer(image, ['prefect-auth-proxy', 'keys', 'create', '--user', 'alice', '--role', 'viewer'], { env, user: RUN_AS });
    running = await runImage(image, env);
  }, BUILD_TIMEOUT);

  afterAll(async () => {
    await running?.container.stop();
    await upstream?.close();
  });

  it('skips only the RUN commands that install OS packages', () => {
    const skipped = image.notes.filter((n) => n.includes('skipped'));
    expect(skipped.filter((n) => !n.includes('(OS packages') && !(RUN_AS === null && n.includes('(not root)')))).toEqual([]);
  });

  (RUN_AS ? it : it.skip)('runs its CMD as the unprivileged user, writing only in the data directory', async () => {
    const uid = readFileSync(`/proc/${running.container.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
    expect(uid?.split(/\s+/)[1]).toBe(String(RUN_AS?.uid));
    const write = (path: string) => execInContainer(image, ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(path)}, '')`], running.options);
    expect((await write('dist/probe')).code).not.toBe(0);
    expect((await write('data/probe')).code).toBe(0);
    expect(existsSync(join(image.rootfs, 'app/data/prefect-auth-proxy.sqlite3'))).toBe(true);
  });

  // Pages the service renders from files of its own belong here as they land (sign-in page, its assets).
  it.each([['/healthcheck', 200]])('serves %s', async (path, status) => {
    const res = await fetch(`${running.url}${path}`);
    expect(res.status).toBe(status);
  });

  it('passes its HEALTHCHECK, run as written, and fails it when nothing listens', async () => {
    const argv = image.config.healthcheck as readonly string[];
    expect(argv).not.toBeNull();
    expect(await execInContainer(image, argv, running.options)).toMatchObject({ code: 0 });
    const closed = { ...running.options, env: { ...running.options.env, PORT: String(await freePort()) } };
    expect((await execInContainer(image, argv, closed)).code).not.toBe(0);
  });

  it('creates a key with the CLI on its PATH before the service has ever started', () => {
    expect(firstKey).toMatchObject({ code: 0, stderr: expect.stringContaining('Created a key for alice'), stdout: expect.stringMatching(/^pap_/) });
  });

  it('forwards a request made with a key, and refuses one without', async () => {
    // `docker exec` while the service runs: the CLI and the server share the SQLite file.
    const second = await execInContainer(image, ['prefect-auth-proxy', 'keys', 'create', '--user', 'bob', '--role', 'viewer'], running.options);
    expect(second).toMatchObject({ code: 0 });
    const post = (headers: Record<string, string>) => fetch(`${running.url}/`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"query":"{ flow { id } }"}' });

    expect((await post({})).status).toBe(401);
    expect(upstream.received).toHaveLength(0);
    for (const key of [firstKey.stdout.trim(), second.stdout.trim()]) expect((await post({ authorization: `Bearer ${key}` })).status).toBe(200);
    expect(upstream.received).toHaveLength(2);
    expect(upstream.received[0]?.body).toContain('flow');
    expect(upstream.received[0]?.headers).not.toHaveProperty('authorization');
  });
});

describe('the same test on a Dockerfile missing a COPY', () => {
  // Reuses the stages above from the assembler's cache: only the final stage is assembled again.
  it.each([
    ['COPY --from=deps /app/node_modules ./node_modules', /Cannot find module/],
    // The build's own `chmod +x dist/cli/main.js` already fails here, before the service could.
    ['COPY --from=build /app/dist ./dist', /dist\/cli\/main\.js/],
  ])('fails without `%s`', async (line, expected) => {
    const mutated = withoutInstructions(DOCKERFILE, (instruction) => instruction === line);
    const outcome = await assembler.assemble(mutated).then(async (image) => {
      makeReadOnly(image);
      const { container } = await runImage(image, { API_SERVICE_URL: 'http://127.0.0.1:9' });
      await container.stop();
      return 'the service started';
    }).catch((err: Error) => err.message);
    expect(outcome).toMatch(expected);
  }, BUILD_TIMEOUT);
});
