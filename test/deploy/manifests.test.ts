import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseConfig, variableNames } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const K8S = join(ROOT, 'deploy', 'kubernetes');
const COMPOSE = join(ROOT, 'deploy', 'compose');
/** Read by Node.js itself (LOG_FORMAT's default), not by the proxy's configuration. */
const OUTSIDE_SPEC = new Set(['NODE_ENV']);

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const manifests: Doc[] = readdirSync(K8S).filter((f) => f.endsWith('.yaml')).flatMap((file) =>
  parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean));
const find = (kind: string) => {
  const doc = manifests.find((m) => m.kind === kind);
  if (!doc) throw new Error(`no ${kind} in deploy/kubernetes`);
  return doc;
};
const known = (name: string) => variableNames.has(name) || OUTSIDE_SPEC.has(name) || (name.endsWith('_FILE') && variableNames.has(name.slice(0, -5)));

describe('Kubernetes manifests', () => {
  it.each(manifests.map((m) => [`${m.kind} ${m.metadata?.name}`, m]))('%s is valid against the Kubernetes schema', (_name, manifest) => {
    const [group, version] = String(manifest.apiVersion).includes('/') ? String(manifest.apiVersion).split('/') : [undefined, manifest.apiVersion];
    // kubernetes-models ships one class per kind with the OpenAPI schema of the API server.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const models = require(`kubernetes-models/${group ? `${group}/` : ''}${version}/${manifest.kind}`) as Record<string, new (d: Doc) => { validate(): void }>;
    const Model = models[manifest.kind as string] as new (d: Doc) => { validate(): void };
    expect(() => new Model(manifest).validate()).not.toThrow();
  });

  it('configures only variables the proxy knows, with values it accepts', () => {
    const data = find('ConfigMap').data as Record<string, string>;
    expect(Object.keys(data).filter((k) => !known(k))).toEqual([]);
    const secretDir = mkdtempSync(join(tmpdir(), 'pap-k8s-'));
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(data)) {
      if (!name.endsWith('_FILE')) {
        env[name] = value;
        continue;
      }
      const file = join(secretDir, name);
      writeFileSync(file, 'secret');
      env[name] = file;
    }
    expect(() => parseConfig(env)).not.toThrow();
  });

  it('mounts every secret file the configuration names, from keys the Secret has', () => {
    const data = find('ConfigMap').data as Record<string, string>;
    const pod = find('Deployment').spec.template.spec;
    const container = pod.containers[0];
    const mount = container.volumeMounts.find((m: Doc) => m.name === 'secrets');
    const volume = pod.volumes.find((v: Doc) => v.name === 'secrets');
    const secret = find('Secret');
    expect(volume.secret.secretName).toBe(secret.metadata.name);
    for (const [name, path] of Object.entries(data).filter(([n]) => n.endsWith('_FILE'))) {
      expect(`${name}: ${path.slice(0, mount.mountPath.length)}`).toBe(`${name}: ${mount.mountPath}`);
      expect(Object.keys(secret.stringData)).toContain(path.slice(mount.mountPath.length + 1));
    }
    // Secrets travel as files only, never as environment values.
    expect(Object.keys(data).filter((k) => ['DB_PASSWORD', 'UPSTREAM_AUTH_STRING', 'DATABASE_URL', 'REDIS_URL'].includes(k))).toEqual([]);
  });

  it('probes the proxy\'s health routes, runs unprivileged, and drains within the kill timeout', () => {
    const data = find('ConfigMap').data as Record<string, string>;
    const pod = find('Deployment').spec.template.spec;
    const container = pod.containers[0];
    expect(container.livenessProbe.httpGet.path).toBe('/healthcheck');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const ports = Object.fromEntries(container.ports.map((p: Doc) => [p.name, p.containerPort]));
    expect(ports).toEqual({ http: Number(data.PORT), metrics: Number(data.METRICS_PORT) });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + Number(data.SHUTDOWN_GRACE_PERIOD));
    const service = find('Service');
    expect(service.spec.selector).toEqual(find('Deployment').spec.template.metadata.labels);
  });
});

describe('docker-compose example', () => {
  const compose = parseYaml(readFileSync(join(COMPOSE, 'docker-compose.yaml'), 'utf8')) as Doc;
  /** `${NAME:-default}` as Compose substitutes it with nothing set. */
  const substitute = (value: string) => String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
  const proxyEnv = Object.fromEntries(Object.entries(compose.services.proxy.environment as Record<string, string>).map(([k, v]) => [k, substitute(v)]));

  it('gives the proxy a configuration it accepts', () => {
    expect(Object.keys(proxyEnv).filter((k) => !known(k))).toEqual([]);
    const { config } = parseConfig(proxyEnv);
    expect(config.apiKind).toBe('rest');
    expect(config.db.type).toBe('postgres');
  });

  it('hands the proxy the Prefect server\'s own auth string, and publishes only the proxy', () => {
    expect(proxyEnv.UPSTREAM_AUTH_STRING).toBe(substitute(compose.services.prefect.environment.PREFECT_SERVER_API_AUTH_STRING));
    expect(compose.services.prefect.ports).toBeUndefined();
    expect(compose.services.postgres.ports).toBeUndefined();
    expect(compose.services.proxy.ports).toEqual(['3000:3000']);
  });

  it('mounts files that exist and builds from the repository\'s Dockerfile', () => {
    for (const volume of compose.services.postgres.volumes as string[]) {
      const source = volume.split(':')[0] as string;
      if (source.startsWith('.')) expect(existsSync(join(COMPOSE, source))).toBe(true);
    }
    expect(existsSync(join(COMPOSE, compose.services.proxy.build.context, 'Dockerfile'))).toBe(true);
    expect(Number.parseInt(compose.services.proxy.stop_grace_period, 10)).toBeGreaterThan(Number(proxyEnv.SHUTDOWN_GRACE_PERIOD));
  });
});
