export const REDACTED = '***';

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A configuration value as it may be printed. A secret is replaced whole, except that a secret
 * URL keeps what an operator needs to recognise it (scheme, user, host, port, path) and loses its
 * password, query values and fragment. Any other URL loses its password. Never a prefix of a
 * secret: a partial secret is a head start for guessing it.
 */
export function redactValue(value: string, secret: boolean): string {
  if (value === '') return value;
  if (!URL_LIKE.test(value)) return secret ? REDACTED : value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Unparsable: cannot tell where a password would be, so nothing of it is shown.
    return secret || value.includes('@') ? REDACTED : value;
  }
  const hidden: string[] = [];
  if (url.password) {
    hidden.push(url.password, decode(url.password));
    url.password = REDACTED;
  }
  if (secret) {
    // A lone user part may be the credential (`redis://<password>@host` for some clients).
    if (url.username && !url.password) return REDACTED;
    for (const [, v] of url.searchParams) if (v) hidden.push(v, encodeURIComponent(v));
    if (url.search) url.search = [...url.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${REDACTED}`).join('&');
    if (url.hash) url.hash = REDACTED;
  }
  // Untouched values are shown as written, not as the URL parser normalises them.
  if (hidden.length === 0 && !(secret && (url.search || url.hash))) return value;
  const shown = url.href;
  // A secret repeated elsewhere (as the user name, in the path) would survive the surgery above.
  return hidden.some((h) => h.length > 0 && shown.includes(h)) ? REDACTED : shown;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
