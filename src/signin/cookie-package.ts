import type * as CookiePackage from 'cookie/dist/index.js';

/**
 * The `cookie` package (jshttp, v2). It ships ESM only with an `exports` map and no `types` field,
 * which this project's `moduleResolution: node` cannot follow: its types are taken from the file,
 * and Node loads it with require(esm).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { parseCookie, stringifySetCookie } = require('cookie') as typeof CookiePackage;
