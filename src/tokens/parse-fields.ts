/** Field readers for the trusted issuers file: each returns the value or reports into `problems`. */
export type Problems = string[];

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 127.0.0.0/8, ::1 and `localhost`: an issuer on this machine, as in tests. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * A URL the proxy fetches keys or metadata from, or trusts as an issuer: https, or plain http on
 * a loopback address only (keys fetched in clear could be swapped on the way); no user name,
 * password or fragment, which an issuer identifier never has.
 */
export function urlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return 'must use https (plain http only on a loopback address)';
  }
  if (url.username || url.password || url.hash) return 'must have no user name, password or fragment';
  return undefined;
}

/** A string or a list of strings, each non-empty and without surrounding spaces. */
export function readStringList(value: unknown, field: string, problems: Problems): string[] | undefined {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (!list || list.length === 0) {
    problems.push(`${field} must be a string or a non-empty list of strings`);
    return undefined;
  }
  const bad = list.filter((item) => typeof item !== 'string' || item.trim() === '' || item.trim() !== item);
  if (bad.length > 0) {
    problems.push(`${field} must hold non-empty strings without surrounding spaces (got ${bad.map((b) => JSON.stringify(b)).join(', ')})`);
    return undefined;
  }
  return [...new Set(list as string[])];
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Whole seconds, written as a number (`3600`) or with a unit (`90s`, `15m`, `24h`, `7d`), within [min, max]. */
export function readSeconds(value: unknown, field: string, min: number, max: number, problems: Problems): number | undefined {
  let seconds: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) seconds = value;
  else if (typeof value === 'string') {
    const m = /^(\d{1,9})\s*([smhd]?)$/.exec(value.trim());
    if (m) seconds = Number(m[1]) * (UNIT_SECONDS[m[2] || 's'] as number);
  }
  if (seconds === undefined) {
    problems.push(`${field} must be whole seconds, as a number or with a unit such as 90s, 15m, 24h or 7d (got ${JSON.stringify(value)})`);
    return undefined;
  }
  if (seconds < min || seconds > max) {
    problems.push(`${field} must be between ${min} and ${max} seconds (got ${seconds})`);
    return undefined;
  }
  return seconds;
}

/** Reports fields that are not in `known`, with a guess when one differs only by case or a plural `s`. */
export function reportUnknownFields(entry: Record<string, unknown>, known: readonly string[], where: string, problems: Problems): void {
  for (const field of Object.keys(entry)) {
    if (known.includes(field)) continue;
    const norm = (f: string) => f.toLowerCase().replace(/s$/, '');
    const guess = known.find((k) => norm(k) === norm(field));
    problems.push(`${where}unknown field "${field}"${guess ? ` (did you mean "${guess}"?)` : ` (known: ${known.join(', ')})`}`);
  }
}
