export type Claims = Readonly<Record<string, unknown>>;

/**
 * A claim's value by name or dotted path. Claim names may hold dots themselves (Kubernetes puts
 * its claims under `kubernetes.io`), so at each level the whole remaining path is tried as one
 * name first, then ever shorter prefixes ending at a dot: `kubernetes.io.serviceaccount.name`
 * reads `claims['kubernetes.io'].serviceaccount.name`. Own properties only, so `constructor` or
 * `__proto__` never reach Object.prototype.
 */
export function readClaimPath(claims: unknown, path: string): unknown {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
  if (Object.hasOwn(claims, path)) return (claims as Record<string, unknown>)[path];
  for (let dot = path.lastIndexOf('.'); dot > 0; dot = path.lastIndexOf('.', dot - 1)) {
    const head = path.slice(0, dot);
    if (!Object.hasOwn(claims, head)) continue;
    const found = readClaimPath((claims as Record<string, unknown>)[head], path.slice(dot + 1));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A claim value as text for matching and summaries: strings, finite numbers and booleans only. */
export function claimText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}
