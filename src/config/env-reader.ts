import { readFileSync } from 'node:fs';
import { variables } from './spec';

const specByName = new Map(variables.map((v) => [v.name, v]));

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Reads variables named in the spec, applying the spec's defaults, and collects every problem
 * instead of stopping at the first, so an operator fixes a bad `.env` in one go.
 */
export class EnvReader {
  readonly errors: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** Raw value (or the spec default); `<NAME>_FILE` is honoured for secrets. */
  raw(name: string): string | undefined {
    const spec = specByName.get(name);
    if (!spec) throw new Error(`config variable ${name} is not in the spec`);
    const direct = this.env[name];
    if (spec.secret) {
      const file = this.env[`${name}_FILE`];
      if (file !== undefined && file !== '') {
        if (direct !== undefined && direct !== '') {
          this.errors.push(`${name} and ${name}_FILE are both set: use one`);
          return undefined;
        }
        try {
          return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        } catch (err) {
          this.errors.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
          return undefined;
        }
      }
    }
    if (direct === undefined || direct.trim() === '') return spec.default;
    return direct.trim();
  }

  string(name: string): string | undefined {
    return this.raw(name);
  }

  bool(name: string): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return false;
    if (TRUE_WORDS.has(value)) return true;
    if (FALSE_WORDS.has(value)) return false;
    this.errors.push(`${name} must be true or false (got "${value}")`);
    return false;
  }

  int(name: string, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return min;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) {
      this.errors.push(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
      return min;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.errors.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
    return undefined;
  }

  url(name: string, protocols: readonly string[]): URL | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      // Never echo the value: URLs may carry passwords.
      this.errors.push(`${name} is not a valid URL`);
      return undefined;
    }
    if (!protocols.includes(url.protocol)) {
      this.errors.push(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
      return undefined;
    }
    return url;
  }

  size(name: string): number {
    const value = this.raw(name)?.toLowerCase();
    const match = value === undefined ? null : /^(\d+)\s*(b|kb|mb|gb)?$/.exec(value);
    if (!match) {
      this.errors.push(`${name} must be a size such as 10mb or 512kb (got "${value}")`);
      return 0;
    }
    return Number(match[1]) * (SIZE_UNITS[match[2] ?? 'b'] ?? 1);
  }
}
