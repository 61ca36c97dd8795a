import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { RoleTable } from '../authz';
import { algorithmProblem, DEFAULT_ALGORITHMS } from './algorithms';
import { deepFreeze } from './freeze';
import type { Problems } from './parse-fields';
import { isObject, readSeconds, readStringList, reportUnknownFields, urlProblem } from './parse-fields';
import { parseRoleRules } from './parse-rules';
import type { InlineJwks, TokenAlgorithm, TrustedIssuer } from './types';

/** Every problem of the file at once, each naming where it is (`issuers[1] (github): ...`). */
export class TrustedIssuersError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid trusted issuers: ${problems.join('; ')}`);
  }
}

export interface ParseIssuersOptions {
  /** The role table (built-in roles and ROLES_FILE): every granted role must be in it. */
  readonly roles: RoleTable;
}

export const DEFAULT_SUBJECT_CLAIM = 'sub';
export const DEFAULT_MAX_LIFETIME_S = 24 * 3600;
export const DEFAULT_CLOCK_SKEW_S = 30;
const MAX_MAX_LIFETIME_S = 7 * 24 * 3600;
const MAX_CLOCK_SKEW_S = 300;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ISSUER_FIELDS = ['name', 'issuer', 'audiences', 'jwksUri', 'jwks', 'algorithms', 'subjectClaim', 'roles', 'maxLifetime', 'clockSkew'];

/** Reads and validates the trusted issuers file; throws TrustedIssuersError. */
export function loadTrustedIssuers(path: string, options: ParseIssuersOptions): readonly TrustedIssuer[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TrustedIssuersError([`cannot read ${path}: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseTrustedIssuers(text, options);
}

/** The file's text, JSON or YAML (YAML 1.2 reads JSON too): `issuers:`, a list. Throws TrustedIssuersError. */
export function parseTrustedIssuers(text: string, options: ParseIssuersOptions): readonly TrustedIssuer[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new TrustedIssuersError([`cannot parse the file as JSON or YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const problems: Problems = [];
  if (!isObject(doc) || !Array.isArray(doc.issuers) || doc.issuers.length === 0) {
    throw new TrustedIssuersError(['the file must hold "issuers", a non-empty list of trusted issuers']);
  }
  reportUnknownFields(doc, ['issuers'], '', problems);
  const issuers = doc.issuers.map((entry: unknown, index) => parseIssuer(entry, index, options.roles, problems));
  reportDuplicates(issuers, problems);
  if (problems.length > 0) throw new TrustedIssuersError(problems);
  return deepFreeze(issuers as TrustedIssuer[]);
}

function locate(entry: Record<string, unknown>, index: number): string {
  const label = typeof entry.name === 'string' ? entry.name : typeof entry.issuer === 'string' ? entry.issuer : undefined;
  return `issuers[${index}]${label ? ` (${label})` : ''}: `;
}

function parseIssuer(entry: unknown, index: number, roles: RoleTable, problems: Problems): TrustedIssuer | undefined {
  if (!isObject(entry)) {
    problems.push(`issuers[${index}]: must be an object with at least issuer, audiences and roles`);
    return undefined;
  }
  const where = locate(entry, index);
  const before = problems.length;
  reportUnknownFields(entry, ISSUER_FIELDS, where, problems);
  const issuer = readIssuer(entry.issuer, where, problems);
  const name = readName(entry.name, issuer, where, problems);
  const audiences = readAudiences(entry.audiences, where, problems);
  // Kubernetes gives every pod a token for its API server, whose audience is the issuer itself: accepting
  // it would let any pod in, and hand the proxy a token it could replay there.
  if (issuer && audiences?.some((a) => a.replace(/\/$/, '') === issuer.replace(/\/$/, ''))) {
    problems.push(`${where}audiences must not include the issuer itself (tokens meant for the issuer's own API, such as a pod's default Kubernetes token): give tokens for this proxy an audience of their own`);
  }
  const jwksUri = readJwksUri(entry.jwksUri, where, problems);
  const jwks = entry.jwks === undefined ? undefined : readInlineJwks(entry.jwks, where, problems);
  if (jwksUri !== undefined && entry.jwks !== undefined) problems.push(`${where}give either jwksUri or jwks, not both`);
  const algorithms = readAlgorithms(entry.algorithms, where, problems);
  const subjectClaim = entry.subjectClaim === undefined ? DEFAULT_SUBJECT_CLAIM : readSubjectClaim(entry.subjectClaim, where, problems);
  const rules = parseRoleRules(entry.roles, where, roles, problems);
  const maxLifetimeS = entry.maxLifetime === undefined ? DEFAULT_MAX_LIFETIME_S
    : readSeconds(entry.maxLifetime, `${where}maxLifetime`, 60, MAX_MAX_LIFETIME_S, problems);
  const clockSkewS = entry.clockSkew === undefined ? DEFAULT_CLOCK_SKEW_S
    : readSeconds(entry.clockSkew, `${where}clockSkew`, 0, MAX_CLOCK_SKEW_S, problems);
  if (problems.length > before || !issuer || !name || !audiences || !algorithms || !subjectClaim
    || maxLifetimeS === undefined || clockSkewS === undefined) return undefined;
  return { name, issuer, audiences, jwksUri, jwks, algorithms, subjectClaim, rules, maxLifetimeS, clockSkewS };
}

function readIssuer(value: unknown, where: string, problems: Problems): string | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${where}issuer is required: the issuer's URL exactly as tokens carry it in "iss"`);
    return undefined;
  }
  const problem = urlProblem(value);
  if (problem) problems.push(`${where}issuer ${problem}`);
  else if (new URL(value).search) problems.push(`${where}issuer must have no query`);
  else if (value.includes('/.well-known/')) problems.push(`${where}issuer must be the issuer itself, not its discovery document`);
  else return value;
  return undefined;
}

/** Default: the issuer's host and path, which is unique whenever the issuers are. */
function readName(value: unknown, issuer: string | undefined, where: string, problems: Problems): string | undefined {
  if (value === undefined) return issuer && new URL(issuer).host + new URL(issuer).pathname.replace(/\/$/, '');
  if (typeof value === 'string' && NAME.test(value)) return value;
  problems.push(`${where}name must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  return undefined;
}

function readAudiences(value: unknown, where: string, problems: Problems): string[] | undefined {
  if (value === undefined) {
    problems.push(`${where}audiences is required: the value(s) of "aud" meant for this proxy (there is no default that accepts any audience)`);
    return undefined;
  }
  const list = readStringList(value, `${where}audiences`, problems);
  if (list?.includes('*')) {
    problems.push(`${where}audiences are compared exactly: "*" is not a wildcard; name this proxy's audience`);
    return undefined;
  }
  return list;
}

function readJwksUri(value: unknown, where: string, problems: Problems): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    problems.push(`${where}jwksUri must be a URL`);
    return undefined;
  }
  const problem = urlProblem(value);
  if (problem) problems.push(`${where}jwksUri ${problem}`);
  return problem ? undefined : value;
}

/** Public keys only: a private key in the file would be a secret, and a symmetric one would let anyone sign. */
function readInlineJwks(value: unknown, where: string, problems: Problems): InlineJwks | undefined {
  if (!isObject(value) || !Array.isArray(value.keys) || value.keys.length === 0) {
    problems.push(`${where}jwks must be a JSON Web Key Set: { "keys": [ ...public keys... ] }`);
    return undefined;
  }
  const before = problems.length;
  value.keys.forEach((key: unknown, i) => {
    const at = `${where}jwks.keys[${i}] `;
    if (!isObject(key) || !['RSA', 'EC', 'OKP'].includes(key.kty as string)) problems.push(`${at}must be a public RSA, EC or OKP key (kty)`);
    else if (key.d !== undefined || key.p !== undefined) problems.push(`${at}holds a private key: give only public keys`);
  });
  return problems.length > before ? undefined : { keys: value.keys as InlineJwks['keys'] };
}

function readAlgorithms(value: unknown, where: string, problems: Problems): TokenAlgorithm[] | undefined {
  if (value === undefined) return [...DEFAULT_ALGORITHMS];
  const list = readStringList(value, `${where}algorithms`, problems);
  if (!list) return undefined;
  const bad = list.map(algorithmProblem).filter((p): p is string => p !== undefined);
  for (const problem of bad) problems.push(`${where}algorithms: ${problem}`);
  return bad.length > 0 ? undefined : list as TokenAlgorithm[];
}

function readSubjectClaim(value: unknown, where: string, problems: Problems): string | undefined {
  if (typeof value === 'string' && value.trim() !== '' && value.trim() === value) return value;
  problems.push(`${where}subjectClaim must be a claim name or dotted path, such as sub, client_id or kubernetes.io.serviceaccount.name`);
  return undefined;
}

function reportDuplicates(issuers: readonly (TrustedIssuer | undefined)[], problems: Problems): void {
  const seen = { issuer: new Map<string, number>(), name: new Map<string, number>() };
  issuers.forEach((entry, index) => {
    if (!entry) return;
    for (const field of ['issuer', 'name'] as const) {
      const first = seen[field].get(entry[field]);
      if (first !== undefined) problems.push(`issuers[${index}] (${entry.name}): ${field} "${entry[field]}" is already used by issuers[${first}]`);
      else seen[field].set(entry[field], index);
    }
  });
}
