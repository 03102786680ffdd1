// /v2/ on the Harbor host: passed to the real registry unchanged, except that a manifest PUT is checked
// against the project's storage quota first (as Harbor's quota middleware does) and its time recorded as
// the push time.
import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import { isDigest, sha256 } from '@toolforge/oci';
import { HarborError, readBody } from './http.ts';
import type { RegistryView } from './registry-view.ts';
import type { State } from './state.ts';

const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;

/** Whether the bearer token carries push on `repo` (unverified: the registry verifies it); Harbor checks
 * authorization before quota, so an unauthorized PUT must get the registry's 401, not a quota 403. */
function mayPush(authorization: string | undefined, repo: string): boolean {
  const payload = authorization?.startsWith('Bearer ') ? authorization.slice(7).split('.')[1] : undefined;
  if (!payload) return false;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      access?: { type: string; name: string; actions: string[] }[];
    };
    return (claims.access ?? []).some(
      (a) => a.type === 'repository' && a.name === repo && a.actions.includes('push'),
    );
  } catch {
    return false;
  }
}

async function quotaDenial(state: State, view: RegistryView, repo: string, bytes: Buffer) {
  const project = state.projectByName(repo.split('/')[0] ?? '');
  if (!project) return undefined;
  const hard = state.quotaOf(project.project_id).hard;
  if (hard < 0) return undefined;
  const current = await view.blobs(project.name);
  if (current.has(sha256(bytes))) return undefined;
  let incoming: Map<string, number>;
  try {
    incoming = (await view.describeBytes(repo, bytes)).blobs;
  } catch {
    return undefined; // let the registry refuse a bad manifest with its own error
  }
  const used = [...current.values()].reduce((a, b) => a + b, 0);
  const adding = [...incoming].filter(([d]) => !current.has(d)).reduce((a, [, s]) => a + s, 0);
  if (used + adding <= hard) return undefined;
  return new HarborError(
    403,
    `Quota exceeded when processing the request of adding ${adding} B of storage resource, which when updated to current usage of ${used} B will exceed the configured upper limit of ${hard} B.`,
    'DENIED',
  );
}

export async function proxyRegistry(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: { port: number },
  state: State,
  view: RegistryView,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const manifest = req.method === 'PUT' ? MANIFEST.exec(path) : null;
  let body: Buffer | undefined;
  if (manifest) {
    body = await readBody(req);
    const repo = manifest[1] ?? '';
    const denied = mayPush(req.headers.authorization, repo) && (await quotaDenial(state, view, repo, body));
    if (denied) {
      res.writeHead(denied.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(denied.body()));
      return;
    }
  }
  await new Promise<void>((resolve) => {
    const out = request(
      { host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const digest = up.headers['docker-content-digest'];
        if (manifest && up.statusCode === 201 && typeof digest === 'string') {
          const [, repo = '', ref = ''] = manifest;
          view.recordPush(repo, digest, isDigest(ref) ? undefined : ref);
        }
        res.writeHead(up.statusCode ?? 502, up.rawHeaders);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', () => {
          res.destroy();
          resolve();
        });
      },
    );
    out.on('error', (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify(new HarborError(502, `registry unreachable: ${err.message}`).body()));
      } else res.destroy();
      resolve();
    });
    if (body) out.end(body);
    else req.pipe(out);
  });
}
