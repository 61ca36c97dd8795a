import { PassThrough } from 'node:stream';
import type { ParsedConfig } from '../../src/config';
import { parseConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import type { Runtime } from '../../src/runtime';
import { startRuntime } from '../../src/runtime';

export interface TestProxy {
  readonly url: string;
  readonly runtime: Runtime;
  /** Every log line the proxy wrote, parsed (JSON format). */
  readonly logs: Array<Record<string, unknown>>;
  /** Raw log output, for leak checks. */
  rawLogs(): string;
  auditLines(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** The real app, real key store and real HTTP listener on an ephemeral loopback port. */
export async function startTestProxy(env: Record<string, string>): Promise<TestProxy> {
  const parsed: ParsedConfig = parseConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    TENANT_ID: '2b9d0c55-0f49-4ac2-9a5f-6a1f0e5c1d11',
    ...env,
  });
  const stream = new PassThrough();
  let raw = '';
  const logs: Array<Record<string, unknown>> = [];
  stream.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    raw += text;
    for (const line of text.split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const logger = createLogger({ level: parsed.config.log.level, format: 'json', env: 'test', stream });
  const runtime = await startRuntime(parsed.config, parsed.warnings, logger);
  return {
    url: `http://127.0.0.1:${runtime.port}`,
    runtime,
    logs,
    rawLogs: () => raw,
    auditLines: () => logs.filter((l) => l.audit === true),
    stop: () => runtime.stop(1000),
  };
}

/** Polls until `condition` holds (audit records are written when a response has ended). */
export async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
