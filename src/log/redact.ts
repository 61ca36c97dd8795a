/**
 * Removes credentials from anything about to be logged. Applied to every log line, at every level,
 * so a careless `logger.debug(req.headers)` cannot leak a key.
 */
const SENSITIVE_NAME = /authorization|password|passwd|secret|token|api[_-]?key|x-prefect-user-id|cookie|^key$|auth[_-]?string/i;
const IN_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/\b(bearer|basic)\s+[^\s,;"']+/gi, '$1 [REDACTED]'],
  [/(\w+:\/\/[^:/\s@]*:)[^@\s]*@/g, '$1[REDACTED]@'],
  [/\bsha256:[0-9a-f]{16,}/gi, 'sha256:[REDACTED]'],
];
export const REDACTED = '[REDACTED]';
const MAX_DEPTH = 8;

export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of IN_TEXT) out = out.replace(pattern, replacement);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[...]';
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(value)) {
    out[name] = SENSITIVE_NAME.test(name) && child !== null && child !== undefined && child !== ''
      ? REDACTED
      : redact(child, depth + 1);
  }
  return out;
}
