import { SignInError } from './failure';

export interface CheckedIssuer {
  readonly url: URL;
  /** Plain http is allowed for this issuer (and every endpoint it names): loopback only. */
  readonly allowHttp: boolean;
}

/** 127.0.0.0/8, ::1 and `localhost`: a provider on this machine, as in tests. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The issuer URL as discovery needs it, or a SignInError: https required except on a loopback
 * host; no credentials, query or fragment (an issuer identifier has none); and the issuer itself
 * rather than its discovery document, whose URL would turn off the check that the metadata's
 * `issuer` is the one configured.
 */
export function checkIssuerUrl(issuerUrl: string): CheckedIssuer {
  let url: URL;
  try {
    url = new URL(issuerUrl);
  } catch {
    throw new SignInError('discovery_failed', 'the issuer URL is not a URL');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new SignInError('discovery_failed', 'the issuer URL must have no user name, password, query or fragment');
  }
  if (url.pathname.includes('/.well-known/')) {
    throw new SignInError('discovery_failed', `give the issuer URL (${url.origin}), not its discovery document`);
  }
  if (url.protocol === 'https:') return { url, allowHttp: false };
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return { url, allowHttp: true };
  throw new SignInError('insecure_issuer', `the issuer ${url.origin} must use https (plain http only on a loopback address)`);
}
