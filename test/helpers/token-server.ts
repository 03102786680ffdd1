// A token server (distribution docs/spec/auth/token.md) for tests: issues RS256 JWTs carrying the signing
// certificate in the `x5c` header, which distribution 2.8 verifies against `auth.token.rootcertbundle`.
import { execFile } from 'node:child_process';
import { randomUUID, sign } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** One access grant: `repository:<name>:<actions>` parsed. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** Decides what a client gets: null refuses the credentials (401), otherwise the granted access. */
export type TokenPolicy = (
  username: string | undefined,
  password: string | undefined,
  requested: Access[],
) => Access[] | null | Promise<Access[] | null>;

export interface TokenRequestLog {
  username: string | undefined;
  scopes: string[];
  granted: Access[] | null;
}

export interface TokenServer extends AsyncDisposable {
  /** Token endpoint, to configure as the registry's realm. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the signing key (the registry's rootcertbundle). */
  certPath: string;
  /** Credentials accepted by the default policy. */
  username: string;
  password: string;
  /** Every token request, in order. */
  requests: TokenRequestLog[];
  stop(): Promise<void>;
}

export interface TokenServerOptions {
  service?: string;
  issuer?: string;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
  /** Default: `username`/`password` get everything they ask for; anyone else is refused. */
  policy?: TokenPolicy;
  username?: string;
  password?: string;
}

/** Parses `type:name:actions`; names may contain ':' (host:port), so split at the first and last colon. */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(','),
  };
}

/** Grants `requested` restricted to the given actions per repository name (helper for custom policies). */
export function grant(requested: Access[], allowed: (name: string) => string[]): Access[] {
  return requested.map((a) => ({ ...a, actions: a.actions.filter((x) => allowed(a.name).includes(x)) }));
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'token-server-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const args = 'req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj /CN=test-token-issuer'.split(' ');
  await promisify(execFile)('openssl', [...args, '-keyout', keyPath, '-out', certPath]);
  const key = await readFile(keyPath, 'utf8');
  const certDer = Buffer.from(
    (await readFile(certPath, 'utf8')).replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, ''),
    'base64',
  );
  const service = options.service ?? 'test-registry';
  const issuer = options.issuer ?? 'test-token-issuer';
  const username = options.username ?? 'tokenuser';
  const password = options.password ?? 'tokenpass';
  const expiresIn = options.expiresIn ?? 300;
  const policy: TokenPolicy =
    options.policy ?? ((u, p, requested) => (u === username && p === password ? requested : null));
  const requests: TokenRequestLog[] = [];

  const issue = (subject: string, access: Access[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const auth = req.headers.authorization;
    let user: string | undefined;
    let pass: string | undefined;
    if (auth?.startsWith('Basic ')) {
      const decoded = Buffer.from(auth.slice(6), 'base64').toString();
      const colon = decoded.indexOf(':');
      user = decoded.slice(0, colon);
      pass = decoded.slice(colon + 1);
    }
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    const requested = scopes.map(parseScope).filter((a): a is Access => a !== undefined);
    const granted =
      url.pathname === '/token' && url.searchParams.get('service') === service
        ? await policy(user, pass, requested)
        : null;
    requests.push({ username: user, scopes, granted });
    if (!granted) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const token = issue(
      user ?? '',
      granted.filter((a) => a.actions.length > 0),
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: new Date().toISOString(),
      }),
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    username,
    password,
    requests,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
