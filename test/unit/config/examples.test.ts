import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { parseConfig, variables } from '../../../src/config';

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');
const known = new Set([...variables.map((v) => v.name), ...variables.filter((v) => v.secret).map((v) => `${v.name}_FILE`)]);
const read = (file: string) => readFileSync(join(EXAMPLES, file), 'utf8');

describe('examples/*.env', () => {
  it('has one file per Prefect generation', () => {
    expect(readdirSync(EXAMPLES).filter((f) => f.endsWith('.env')).sort()).toEqual(['prefect1.env', 'prefect2.env', 'prefect3.env']);
  });

  it.each([
    ['prefect1.env', 'graphql', []],
    ['prefect2.env', 'rest', ['UPSTREAM_AUTH_STRING is not set']],
    ['prefect3.env', 'rest', []],
  ])('%s parses with the real parser: API_KIND=%s, warnings %j', (file, apiKind, warnings) => {
    const { config, warnings: got } = parseConfig(dotenv.parse(read(file)));
    expect(config.apiKind).toBe(apiKind);
    expect(got).toHaveLength(warnings.length);
    warnings.forEach((w, i) => expect(got[i]).toContain(w));
  });

  it.each(['prefect1.env', 'prefect2.env', 'prefect3.env'])('%s names only known variables, set or commented out', (file) => {
    const names = [...read(file).matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] as string);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !known.has(n))).toEqual([]);
  });
});
