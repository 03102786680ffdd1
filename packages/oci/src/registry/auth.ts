import { parseChallenges } from './challenge.ts';
import { RegistryError } from './errors.ts';
import type { RegistryResponse } from './response.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
}

type Scheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service: string | undefined };

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Fetches a token endpoint URL (with retries) optionally carrying Basic credentials. */
export type TokenFetcher = (url: URL, authorization: string | undefined) => Promise<RegistryResponse>;

/** Tokens are renewed this long before they expire, so one never lapses mid-request. */
const EXPIRY_MARGIN_MS = 10_000;

/**
 * Registry authentication (distribution token.md): learns the scheme from a 401 challenge, then sends
 * Basic credentials or fetches bearer tokens from the realm per scope set, caching them until expiry.
 */
export class Authenticator {
  readonly #credentials: RegistryCredentials | undefined;
  readonly #fetchToken: TokenFetcher;
  #scheme: Scheme | undefined;
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<string>>();
  readonly #fixedSecrets: string[] = [];

  constructor(credentials: RegistryCredentials | undefined, fetchToken: TokenFetcher) {
    this.#credentials = credentials;
    this.#fetchToken = fetchToken;
    if (credentials) this.#fixedSecrets.push(credentials.password, this.#basic()!.slice(6));
  }

  /** Everything that must never appear in an error message. */
  get secrets(): string[] {
    return [...this.#fixedSecrets, ...[...this.#tokens.values()].map((t) => t.token)];
  }

  /** The Authorization value for a request needing `scopes`, once the scheme is known. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    const scheme = this.#scheme;
    if (!scheme) return undefined;
    if (scheme.kind === 'basic') return this.#basic();
    return `Bearer ${await this.#token(scheme, scopes)}`;
  }

  /**
   * Reacts to a 401. Returns the scopes to retry with, or undefined when retrying cannot help (no usable
   * challenge, or Basic credentials already refused). A refused bearer token is dropped from the cache,
   * so the retry fetches a fresh one.
   */
  challenge(
    header: string | null,
    scopes: readonly string[],
    sent: string | undefined,
  ): string[] | undefined {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const scheme: Scheme = { kind: 'bearer', realm: bearer.params.realm!, service: bearer.params.service };
      this.#scheme = scheme;
      const asked = bearer.params.scope?.split(' ').filter(Boolean) ?? [];
      // Add what the registry asks for only if not already covered: one token per scope set, not two.
      const wanted = [...scopes, ...asked.filter((s) => !scopes.some((mine) => covers(mine, s)))];
      if (sent?.startsWith('Bearer ')) this.#tokens.delete(this.#key(scheme, wanted));
      return wanted;
    }
    if (challenges.some((c) => c.scheme === 'basic') && this.#credentials && !sent?.startsWith('Basic ')) {
      this.#scheme = { kind: 'basic' };
      return [...scopes];
    }
    return undefined;
  }

  #basic(): string | undefined {
    const c = this.#credentials;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
  }

  #key(scheme: Scheme & { kind: 'bearer' }, scopes: readonly string[]): string {
    return `${scheme.realm}\n${scheme.service ?? ''}\n${[...new Set(scopes)].sort().join(' ')}`;
  }

  #token(scheme: Scheme & { kind: 'bearer' }, scopes: readonly string[]): Promise<string> {
    const key = this.#key(scheme, scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return Promise.resolve(cached.token);
    // Parallel blob pushes share one token request per scope set.
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#requestToken(scheme, [...new Set(scopes)].sort(), key).finally(() =>
        this.#pending.delete(key),
      );
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #requestToken(scheme: Scheme & { kind: 'bearer' }, scopes: string[], key: string): Promise<string> {
    const url = new URL(scheme.realm);
    if (scheme.service) url.searchParams.set('service', scheme.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const res = await this.#fetchToken(url, this.#basic());
    if (!res.ok) {
      await res.discard();
      throw new RegistryError({
        method: 'GET',
        url,
        status: res.status,
        reason: `token request for ${scopes.join(' ') || 'registry access'} refused`,
        secrets: this.secrets,
      });
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(await res.text(1 << 20));
    } catch {
      throw new RegistryError({
        method: 'GET',
        url,
        status: res.status,
        reason: 'token response is not JSON',
      });
    }
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError({
        method: 'GET',
        url,
        status: res.status,
        reason: 'token response has no token',
      });
    }
    const lifetimeMs =
      (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    const usableMs = Math.max(lifetimeMs - EXPIRY_MARGIN_MS, lifetimeMs / 2);
    this.#tokens.set(key, { token, expiresAt: Date.now() + usableMs });
    return token;
  }
}

/** Whether scope `a` grants everything scope `b` asks for (same resource, superset of actions). */
function covers(a: string, b: string): boolean {
  const split = (s: string) => {
    const i = s.lastIndexOf(':');
    return [s.slice(0, i), s.slice(i + 1).split(',')] as const;
  };
  const [resA, actionsA] = split(a);
  const [resB, actionsB] = split(b);
  return resA === resB && actionsB.every((x) => actionsA.includes(x) || actionsA.includes('*'));
}
