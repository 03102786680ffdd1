// URL routing: which resource, namespace, name and subresource a path names, which verb a request is,
// and the discovery documents (/api, /apis, /api/v1, /apis/<group>/<version>, /version).
import type { ServerResponse } from 'node:http';
import { errors } from './errors.ts';
import { sendJson, type Target } from './handlers.ts';
import type { ResourceRegistry } from './resources.ts';

export function route(registry: ResourceRegistry, segs: string[], q: URLSearchParams): Target {
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else throw errors.noResource();
  let watch = q.get('watch') === 'true' || q.get('watch') === '1';
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (!plural || extra.length) throw errors.noResource();
  const def = registry.lookup(group, version, plural);
  if (!def) throw errors.noResource();
  if (def.namespaced && namespace === undefined && name !== undefined) throw errors.noResource();
  if (!def.namespaced && namespace !== undefined) throw errors.noResource();
  if (
    subresource &&
    !(subresource === 'status' && def.statusSubresource) &&
    !(subresource === 'log' && plural === 'pods' && !group)
  ) {
    throw errors.noResource();
  }
  return { def, version, namespace, name, subresource, watch };
}

export function verbOf(method: string, t: Target): string {
  const item = t.name !== undefined;
  switch (method) {
    case 'GET':
      if (t.watch) return 'watch';
      return item ? 'get' : 'list';
    case 'POST':
      if (!item) return 'create';
      break;
    case 'PUT':
      if (item && t.subresource !== 'log') return 'update';
      break;
    case 'PATCH':
      if (item && t.subresource !== 'log') return 'patch';
      break;
    case 'DELETE':
      if (t.subresource) break;
      return item ? 'delete' : 'deletecollection';
  }
  throw errors.methodNotAllowed(method);
}

export function discovery(registry: ResourceRegistry, segs: string[], res: ServerResponse): boolean {
  const send = (b: unknown) => sendJson(res, 200, b);
  const p = segs.join('/');
  const defs = registry.all();
  if (p === 'version') {
    send({ major: '1', minor: '33', gitVersion: 'v1.33.0-fake', platform: 'linux/amd64' });
  } else if (p === 'api') {
    send({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
  } else if (p === 'apis') {
    const groups = new Map<string, Set<string>>();
    for (const d of defs.filter((d) => d.group)) {
      const s = groups.get(d.group) ?? new Set<string>();
      for (const v of d.versions) s.add(v);
      groups.set(d.group, s);
    }
    send({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version })),
        preferredVersion: { groupVersion: `${name}/${[...versions][0]}`, version: [...versions][0] },
      })),
    });
  } else if ((segs[0] === 'api' && segs.length === 2) || (segs[0] === 'apis' && segs.length === 3)) {
    const [group, version] = segs[0] === 'api' ? ['', segs[1]!] : [segs[1]!, segs[2]!];
    const here = defs.filter((d) => d.group === group && d.versions.includes(version));
    if (!here.length) throw errors.noResource();
    const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
    send({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: here.flatMap((d) => [
        {
          name: d.plural,
          singularName: d.kind.toLowerCase(),
          namespaced: d.namespaced,
          kind: d.kind,
          verbs,
        },
        ...(d.statusSubresource
          ? [
              {
                name: `${d.plural}/status`,
                singularName: '',
                namespaced: d.namespaced,
                kind: d.kind,
                verbs: ['get', 'patch', 'update'],
              },
            ]
          : []),
        ...(d.plural === 'pods' && !d.group
          ? [{ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] }]
          : []),
      ]),
    });
  } else return false;
  return true;
}
