import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Run { code: number; stdout: string; stderr: string }

/**
 * Runs a command of a Prefect venv (the CLI, python) as a user of the proxy would: a fresh home,
 * the proxy's API URL, and the caller's key settings in `env`.
 */
export function runPrefect(bin: string, apiUrl: string, command: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  const home = mkdtempSync(join(tmpdir(), 'prefect-client-'));
  return new Promise((resolve) => {
    execFile(join(bin, command), args, {
      cwd,
      timeout: 240_000,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: home, PREFECT_HOME: home, PREFECT_API_URL: apiUrl, PREFECT_SERVER_ANALYTICS_ENABLED: 'false', COLUMNS: '250', ...env },
    }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** Polls `probe` once a second until `ok` holds or `ms` passes; returns the last value. */
export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    value = await probe();
  }
  return value;
}
