import dotenv from 'dotenv';
import { ConfigError, parseConfig } from './config';
import { startRuntime } from './runtime';

async function main(): Promise<void> {
  // Real environment variables win over .env, as operators expect from `docker run -e`.
  dotenv.config({ quiet: true });
  let parsed;
  try {
    parsed = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`prefect-auth-proxy: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const runtime = await startRuntime(parsed.config, parsed.warnings);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    runtime.logger.notice('shutting down', { signal });
    runtime.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        runtime.logger.error('shutdown failed', { error: err instanceof Error ? err : String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`prefect-auth-proxy: failed to start: ${e?.code ?? ''} ${e?.message ?? String(err)}\n`);
  process.exit(1);
});
