import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AppError } from '../errors.ts';
import { nonPublicReason } from './address.ts';

export interface SourcePolicy {
  /** `file://` URLs (embedded mode only, for local repositories). */
  allowFile: boolean;
  /** Hosts (names or addresses) allowed even though they are private or loopback, e.g. 127.0.0.1. */
  allowedHosts: ReadonlySet<string>;
}

export interface Source {
  url: URL;
  /** The URL as given, safe to show and log (it carries no credentials: those are refused). */
  display: string;
  /** For http(s): the address git must connect to (pinned, so a second DNS answer cannot differ). */
  pinned?: { host: string; port: number; address: string };
}

const refuse = (message: string, hint?: string) =>
  new AppError('SOURCE_REFUSED', message, { hint: hint ?? 'Use the https URL of a public git repository.' });

/** The URL with any user:password@ removed, for messages. */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}

/** Validate a source URL: scheme, form and credentials. Does not look at the network. */
export function parseSourceUrl(raw: string, policy: SourcePolicy): URL {
  if (raw.length > 2048) throw refuse('The source URL is too long (over 2048 characters).');
  if (/^[a-z][a-z0-9+.-]*::/i.test(raw)) {
    throw refuse('git remote-helper URLs (such as ext::) are not accepted.');
  }
  if (raw.startsWith('-')) throw refuse('The source URL must not start with "-".');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u0020\u007f]/.test(raw)) {
    throw refuse('The source URL contains spaces or control characters.');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse(
      `"${redactUrl(raw)}" is not a URL.`,
      'Use a URL such as https://gitlab.wikimedia.org/toolforge-repos/my-tool.git',
    );
  }
  const schemes = ['https:', 'http:', 'git:', ...(policy.allowFile ? ['file:'] : [])];
  if (!schemes.includes(url.protocol)) {
    throw refuse(
      `URL scheme "${url.protocol.slice(0, -1)}" is not accepted: use ${schemes.map((s) => s.slice(0, -1)).join(', ')}.`,
    );
  }
  if (url.username || url.password) {
    throw refuse(
      'URLs carrying credentials are not accepted: the repository must be public.',
      'Remove the user name and password from the URL.',
    );
  }
  if (url.protocol === 'file:') {
    if (url.host && url.host !== 'localhost') throw refuse('file:// URLs must name a local path.');
    return url;
  }
  if (!url.hostname || url.hostname.startsWith('-')) throw refuse('The source URL has no valid host.');
  return url;
}

/** Check where a network URL points: refuse private, loopback and link-local hosts unless allowlisted. */
export async function checkSourceHost(url: URL, policy: SourcePolicy): Promise<Source['pinned'] | undefined> {
  if (url.protocol === 'file:') return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : 9418);
  if (policy.allowedHosts.has(host)) return undefined;
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw refuse(`The host "${host}" of the source URL cannot be resolved.`, 'Check the repository URL.');
    }
  }
  for (const address of addresses) {
    if (policy.allowedHosts.has(address)) continue;
    const reason = nonPublicReason(address);
    if (reason)
      throw refuse(`The source URL points to ${reason} (${host}); builds only fetch from public hosts.`);
  }
  return addresses[0] ? { host, port, address: addresses[0] } : undefined;
}

export async function resolveSource(raw: string, policy: SourcePolicy): Promise<Source> {
  const url = parseSourceUrl(raw, policy);
  const pinned = await checkSourceHost(url, policy);
  return { url, display: raw, ...(pinned ? { pinned } : {}) };
}
