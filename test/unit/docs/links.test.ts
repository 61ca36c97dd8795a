import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const PAGES = ['README.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Lines outside fenced code blocks: a `# comment` in a bash block is not a heading. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of prose(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = (heading[1] as string).toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

function linksOf(text: string): string[] {
  // Inline code spans may show link syntax without being links.
  const body = prose(text).join('\n').replace(/`[^`\n]*`/g, '``');
  return [...body.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] as string);
}

const cases = PAGES.flatMap((page) => linksOf(readFileSync(join(ROOT, page), 'utf8'))
  .filter((href) => !/^[a-z][a-z+.-]*:/i.test(href))
  .map((href) => [page, href] as const));

describe('links between the README and docs/', () => {
  it('finds the pages and their links', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/configuration.md']));
    expect(cases.length).toBeGreaterThan(20);
  });

  it.each(cases)('%s → %s', (page, href) => {
    const [path = '', anchor] = href.split('#');
    const target = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), decodeURIComponent(path));
    expect(relative(ROOT, target).startsWith('..')).toBe(false);
    expect(existsSync(target)).toBe(true);
    if (anchor !== undefined) {
      expect(statSync(target).isFile() && target.endsWith('.md')).toBe(true);
      expect([...anchorsOf(readFileSync(target, 'utf8'))]).toContain(anchor);
    }
  });

  it.each<[string, string[]]>([
    ['## Quick start: Prefect 3', ['quick-start-prefect-3']],
    ['## Failure behaviour\n## Failure behaviour', ['failure-behaviour', 'failure-behaviour-1']],
    ['### Clients, CLI, workers, flow runs', ['clients-cli-workers-flow-runs']],
    ['## `prefect_api_keys` table\n```bash\n# not a heading\n```', ['prefect_api_keys-table']],
  ])('anchors as GitHub makes them: %j', (text, expected) => {
    expect([...anchorsOf(text)]).toEqual(expected);
  });
});
