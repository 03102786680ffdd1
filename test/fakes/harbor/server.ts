// The fake Harbor: one HTTP server on 127.0.0.1 (the "Harbor host") serving a subset of the management
// API (/api/v2.0), the token service (/service/token) and /v2/ proxied to a real `docker-registry` that
// trusts only that token service. It is a test double: see test/fakes/README.md for what it models.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient } from '@toolforge/oci';
import { type RunningRegistry, startRegistry } from '../../helpers/registry.ts';
import { startTokenServer, type TokenRequestLog } from '../../helpers/token-server.ts';
import { type Credentials, grantTokenAccess, identify, identifyHeader } from './access.ts';
import { artifactRoutes } from './api-artifacts.ts';
import { projectRoutes } from './api-projects.ts';
import { robotRoutes } from './api-robots.ts';
import { systemRoutes } from './api-system.ts';
import { badRequest, HarborError, notFound, parseBasic, type Reply, readBody, unauthorized } from './http.ts';
import { proxyRegistry } from './proxy.ts';
import { RegistryView } from './registry-view.ts';
import { retentionRoutes } from './retention.ts';
import { match } from './router.ts';
import { type ProjectRecord, type RetentionRecord, type RobotRecord, State } from './state.ts';

export interface FakeHarborOptions {
  /** Default storage quota of new projects in bytes (Harbor's `storage_per_project`); -1 = unlimited. */
  storagePerProject?: number;
  /** System admin (default admin / Harbor12345). */
  adminUser?: string;
  adminPassword?: string;
}

export interface HarborRequest {
  method: string;
  /** Raw path, as sent (repository names stay double-encoded). */
  path: string;
  /** Query string without `?`. */
  query: string;
  /** The Basic username, if any. */
  username?: string;
  status?: number;
  time: Date;
}

export interface HarborFault {
  method?: string;
  /** Matched against the path (no query) of any request to the Harbor host: API, token service, /v2/. */
  path: RegExp;
  /** Answer this status with Harbor's error body (default 503 unless only `delayMs` is given). */
  status?: number;
  /** Hold the request this long, then fail it with `status` or serve it normally. */
  delayMs?: number;
  /** How many matching requests it applies to (default 1; Infinity for all). */
  times?: number;
  /** The error body's message (default `injected fault (<status>)`), e.g. one echoing a secret. */
  message?: string;
  /**
   * Apply the request, then lose its answer, as when Harbor did the work and the connection or the
   * client's deadline gave out: `hang` holds the answer until the client gives up (or `delayMs`, then
   * sends it), `reset` destroys the socket. Elsewhere (token service, /v2/) nothing is applied: the
   * request hangs until the client gives up, or is reset.
   */
  lose?: 'hang' | 'reset';
}

export interface HarborFaultHandle {
  readonly hits: number;
  readonly remaining: number;
  cancel(): void;
}

export interface FakeHarbor extends AsyncDisposable {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** 127.0.0.1:port — image references are `<host>/<project>/<repo>:<tag>`. */
  readonly host: string;
  readonly admin: Credentials;
  /** The real registry behind /v2/ (reach it directly only to bypass the Harbor host). */
  readonly registry: RunningRegistry;
  /** Management API calls (/api/v2.0), in order. */
  readonly requests: HarborRequest[];
  /** Token service requests (username, scopes, what was granted), the fake's own excluded. */
  readonly tokenRequests: TokenRequestLog[];
  /** Live records: changing one changes the fake (e.g. a robot's `expires_at`). */
  projects(): ProjectRecord[];
  project(name: string): ProjectRecord | undefined;
  robots(): RobotRecord[];
  /** Every robot secret the API has handed out (created or refreshed), deleted robots' included. */
  readonly issuedSecrets: readonly string[];
  retention(projectName: string): RetentionRecord | undefined;
  /** Quota usage as the API reports it, read from the registry. */
  usedStorage(projectName: string): Promise<number>;
  fail(fault: HarborFault): HarborFaultHandle;
  clearFaults(): void;
  stop(): Promise<void>;
}

const ROUTES = [...systemRoutes, ...projectRoutes, ...robotRoutes, ...artifactRoutes, ...retentionRoutes];
const API = '/api/v2.0';

function send(res: ServerResponse, reply: Reply, head: boolean): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.text !== undefined) {
    headers['content-type'] = 'text/plain; charset=utf-8';
    payload = reply.text;
  } else if (reply.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(reply.body);
  }
  res.writeHead(reply.status, headers);
  res.end(head ? undefined : payload);
}

const sendError = (res: ServerResponse, e: HarborError) =>
  send(res, { status: e.status, body: e.body() }, false);

/** Hold an answer until the client closes the connection, or `ms` when given. */
const hang = (res: ServerResponse, ms?: number) =>
  new Promise<void>((resolve) => {
    res.once('close', resolve);
    if (ms) setTimeout(resolve, ms).unref();
  });

interface ActiveFault extends HarborFault {
  left: number;
  hits: number;
}

export async function startFakeHarbor(opts: FakeHarborOptions = {}): Promise<FakeHarbor> {
  const state = new State();
  const admin = { username: opts.adminUser ?? 'admin', password: opts.adminPassword ?? 'Harbor12345' };
  const internal = { username: 'harbor-core-internal', password: randomBytes(16).toString('hex') };
  const storagePerProject = opts.storagePerProject ?? -1;
  const requests: HarborRequest[] = [];
  let faults: ActiveFault[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendError(res, err instanceof HarborError ? err : new HarborError(500, String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `http://${host}`;
  const realm = `${url}/service/token`;

  let view: RegistryView | undefined;
  // Harbor's token service, reusing the test token server's signing (the registry trusts its certificate).
  const tokens = await startTokenServer({
    service: 'harbor-registry',
    issuer: 'harbor-token-issuer',
    expiresIn: 1800,
    policy: async (user, password, requested) => {
      const id = identify(state, admin, internal, user, password);
      return id && view ? grantTokenAccess(state, view, id, requested) : null;
    },
  }).catch((e: unknown) => {
    server.close();
    throw e;
  });
  let registry: RunningRegistry;
  try {
    registry = await startRegistry({
      auth: 'token',
      tokenServer: { ...tokens, realm },
      deleteEnabled: true,
      relativeUrls: true,
    });
  } catch (e) {
    server.close();
    await tokens.stop();
    throw e;
  }
  // The fake reads the registry as Harbor core does: straight to it, its token fetched past the Harbor
  // host, so faults and the request log only ever see the test's traffic.
  const client = new RegistryClient({
    url: registry.url,
    credentials: internal,
    fetch: (input, init) => {
      const u = String(input instanceof Request ? input.url : input);
      return fetch(u.startsWith(realm) ? tokens.realm + u.slice(realm.length) : input, init);
    },
  });
  const registryView = new RegistryView(client, (kind) => state.nextId(kind));
  view = registryView;

  async function api(req: IncomingMessage, u: URL): Promise<Reply> {
    const method = req.method ?? 'GET';
    const m = match(ROUTES, method, u.pathname.slice(API.length));
    if (m === undefined) throw notFound(`no route for ${method} ${u.pathname}`);
    if (m === 'method') throw new HarborError(405, `method ${method} not allowed`);
    const id = identifyHeader(state, admin, internal, req.headers.authorization);
    if (!id && !m.route.anonymous) throw unauthorized();
    const raw = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? await readBody(req) : Buffer.alloc(0);
    let body: unknown;
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw badRequest('invalid JSON body');
      }
    }
    return m.route.handler({
      state,
      view: registryView,
      id: id ?? { kind: 'anonymous' },
      params: m.params,
      query: u.searchParams,
      body,
      headers: req.headers,
      path: u.pathname,
      storagePerProject,
      externalUrl: url,
    });
  }

  /** Serve an API request; with a `lose` fault, apply it and then lose the answer. */
  async function serveApi(req: IncomingMessage, res: ServerResponse, u: URL, lose?: ActiveFault) {
    if (!lose) return send(res, await api(req, u), req.method === 'HEAD');
    const reply = await api(req, u).catch((e: unknown) => {
      if (e instanceof HarborError) return { status: e.status, body: e.body() };
      throw e;
    });
    if (lose.lose === 'reset') return void res.destroy();
    await hang(res, lose.delayMs);
    if (!res.destroyed) send(res, reply, req.method === 'HEAD');
  }

  async function forwardToken(req: IncomingMessage, res: ServerResponse, u: URL) {
    const target = new URL(tokens.realm);
    target.search = u.search;
    const auth = req.headers.authorization;
    const r = await fetch(target, { headers: auth ? { authorization: auth } : {} });
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await r.arrayBuffer()));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    res.setHeader('x-request-id', String(req.headers['x-request-id'] ?? randomUUID()));
    const isApi = u.pathname === API || u.pathname.startsWith(`${API}/`);
    const record: HarborRequest = { method, path: u.pathname, query: u.search.slice(1), time: new Date() };
    const username = parseBasic(req.headers.authorization)?.username;
    if (username !== undefined) record.username = username;
    if (isApi) {
      requests.push(record);
      res.on('finish', () => (record.status = res.statusCode));
    }
    const fault = faults.find(
      (f) => f.left > 0 && (!f.method || f.method.toUpperCase() === method) && f.path.test(u.pathname),
    );
    if (fault) {
      fault.left--;
      fault.hits++;
      if (fault.lose && isApi) return serveApi(req, res, u, fault);
      if (fault.lose) {
        req.resume();
        return fault.lose === 'reset' ? void res.destroy() : hang(res);
      }
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.status !== undefined) {
        req.resume();
        const message = fault.message ?? `injected fault (${fault.status})`;
        return sendError(res, new HarborError(fault.status, message));
      }
    }
    if (u.pathname === '/service/token') return forwardToken(req, res, u);
    if (u.pathname === '/v2' || u.pathname.startsWith('/v2/')) {
      return proxyRegistry(req, res, registry, state, registryView);
    }
    if (isApi) return serveApi(req, res, u);
    throw notFound(`not found: ${u.pathname}`);
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await registry.stop();
    await tokens.stop();
  };
  const fake: FakeHarbor = {
    url,
    host,
    admin,
    registry,
    requests,
    get tokenRequests() {
      return tokens.requests.filter((r) => r.username !== internal.username);
    },
    projects: () => [...state.projects.values()],
    project: (name) => state.projectByName(name),
    robots: () => [...state.robots.values()],
    issuedSecrets: state.issuedSecrets,
    retention(projectName) {
      const id = state.projectByName(projectName)?.metadata.retention_id;
      return id === undefined ? undefined : state.retentions.get(Number(id));
    },
    usedStorage: (projectName) => registryView.usage(projectName),
    fail(f) {
      const af: ActiveFault = { ...f, left: f.times ?? 1, hits: 0 };
      if (af.status === undefined && !f.delayMs && !f.lose) af.status = 503;
      faults.push(af);
      return {
        get hits() {
          return af.hits;
        },
        get remaining() {
          return af.left;
        },
        cancel: () => {
          af.left = 0;
        },
      };
    },
    clearFaults() {
      faults = [];
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return fake;
}
