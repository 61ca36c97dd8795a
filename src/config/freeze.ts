/**
 * Makes a parsed configuration immutable all the way down. Object.freeze alone is not enough:
 * a URL keeps its state in private fields that its setters change even on a frozen instance,
 * and a Map's entries are not properties. Both are replaced by subclasses that refuse to change,
 * so every call site keeps its `URL` / `ReadonlyMap` types and `instanceof` checks.
 */
export function deepFreeze<T>(value: T): T {
  if (!value || typeof value !== 'object') return value;
  if (value instanceof URL) return freezeUrl(value) as T;
  if (value instanceof Map) return freezeMap(value) as T;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const child = record[key];
    const frozen = deepFreeze(child);
    // Throws on an already frozen parent: better than leaving a mutable child behind it.
    if (frozen !== child) record[key] = frozen;
  }
  return Object.freeze(value);
}

function refuse(what: string): never {
  throw new TypeError(`configuration is read-only: cannot change ${what}`);
}

/** Query parameters of a FrozenUrl: reading works, every change throws. */
class FrozenSearchParams extends URLSearchParams {
  override append(): void { refuse('URL search parameters'); }
  override delete(): void { refuse('URL search parameters'); }
  override set(): void { refuse('URL search parameters'); }
  override sort(): void { refuse('URL search parameters'); }
}

class FrozenUrl extends URL {}

// Accessors are replaced on the prototype at run time: Node's typings declare URL's accessors as
// plain properties, which a subclass may not override with accessors in TypeScript.
Object.defineProperty(FrozenUrl.prototype, 'searchParams', {
  configurable: false,
  enumerable: true,
  // A detached copy: URL's own searchParams would write changes back into this URL.
  get(this: URL) { return Object.freeze(new FrozenSearchParams(this.search)); },
});
for (const name of ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const) {
  const inherited = Object.getOwnPropertyDescriptor(URL.prototype, name);
  Object.defineProperty(FrozenUrl.prototype, name, {
    configurable: false,
    enumerable: true,
    get: inherited?.get,
    set: () => refuse(`URL ${name}`),
  });
}
Object.freeze(FrozenUrl.prototype);
Object.freeze(FrozenSearchParams.prototype);

export function freezeUrl(url: URL): URL {
  return url instanceof FrozenUrl ? url : Object.freeze(new FrozenUrl(url.href));
}

class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    // Map's constructor would add entries through this.set, which refuses: use the base class's.
    for (const [key, value] of entries) super.set(key, value);
  }

  override set(): this { refuse('a map entry'); }

  override delete(): boolean { refuse('a map entry'); }

  override clear(): void { refuse('a map'); }
}
Object.freeze(FrozenMap.prototype);

export function freezeMap<K, V>(map: ReadonlyMap<K, V>): ReadonlyMap<K, V> {
  if (map instanceof FrozenMap) return map;
  const frozen = new FrozenMap<K, V>([...map].map(([k, v]) => [deepFreeze(k), deepFreeze(v)] as const));
  return Object.freeze(frozen);
}
