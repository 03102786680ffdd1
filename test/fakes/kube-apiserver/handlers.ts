// The REST verbs on a resource: create, get, list, watch, update, patch, delete, deletecollection,
// the status subresource and pods/log. Validation and admission happen in the apiserver's order:
// decode → name generation → object-meta validation → admission hooks → storage.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, KubeError, type StatusCause } from './errors.ts';
import type { LogHub, LogQuery } from './logs.ts';
import { applyPatch, PATCH_TYPES } from './patch.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import {
  isValidLabelKey,
  isValidLabelValue,
  parseFieldSelector,
  parseLabelSelector,
  type Selector,
} from './selectors.ts';
import { type KubeObject, type Propagation, randomSuffix, type Store } from './store.ts';
import type { WatchHub } from './watch.ts';

export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE';
  resource: ResourceDef;
  namespace: string | undefined;
  name: string;
  /** The incoming object; a hook may change it (mutating admission). */
  object: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
}

export interface AdmissionDenial {
  allowed: false;
  message: string;
  /** HTTP code; webhooks' denials default to 400 BadRequest. */
  code?: number;
  reason?: string;
  causes?: StatusCause[];
  /** When set, the message reads `admission webhook "<webhook>" denied the request: <message>`. */
  webhook?: string;
}

export type AdmissionHook = (
  req: AdmissionRequest,
) => undefined | AdmissionDenial | Promise<undefined | AdmissionDenial>;

export interface Ctx {
  store: Store;
  watches: WatchHub;
  logs: LogHub;
  hooks: Map<string, Set<AdmissionHook>>;
}

export interface Target {
  def: ResourceDef;
  version: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  watch: boolean;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: KubeError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, err.status());
}

function selectorOf(q: URLSearchParams, def: ResourceDef): Selector {
  return {
    labels: parseLabelSelector(q.get('labelSelector') ?? undefined),
    fields: parseFieldSelector(q.get('fieldSelector') ?? undefined, def),
  };
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`invalid value for ${name}: ${v}`);
  return Number(v);
}

const boolParam = (q: URLSearchParams, name: string) => q.get(name) === 'true' || q.get(name) === '1';

/** Served objects carry the requested version's apiVersion (the fake does no schema conversion). */
function view(t: Target, o: KubeObject): KubeObject {
  return { ...o, apiVersion: apiVersionOf(t.def, t.version), kind: t.def.kind };
}

function decodeCheck(t: Target, body: unknown): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw errors.badRequest('the body of the request could not be decoded as an object');
  }
  const o = body as KubeObject;
  // Custom resources are decoded as unstructured objects, which need apiVersion and kind.
  if (t.def.custom && !o.kind) throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(o)}'`);
  if (t.def.custom && !o.apiVersion)
    throw errors.badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(o)}'`);
  if (o.kind && o.kind !== t.def.kind) {
    throw errors.badRequest(
      `the kind in the body (${o.kind}) does not match the resource's kind (${t.def.kind})`,
    );
  }
  o.metadata ??= {} as KubeObject['metadata'];
  if (t.def.namespaced && o.metadata.namespace && o.metadata.namespace !== t.namespace) {
    throw errors.badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  return o;
}

function validateMeta(t: Target, o: KubeObject): void {
  const causes: StatusCause[] = [];
  const m = o.metadata;
  if (!m.name) {
    causes.push({
      reason: 'FieldValueRequired',
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
    });
  } else if (m.name.length > 253 || !DNS1123_SUBDOMAIN.test(m.name)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${m.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    });
  }
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    if (!isValidLabelKey(k)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.labels',
        message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      });
    }
    if (typeof v !== 'string' || !isValidLabelValue(v)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.labels',
        message: `Invalid value: "${v}": ${String(v).length > 63 ? 'must be no more than 63 characters' : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"}`,
      });
    }
  }
  if (causes.length) throw errors.invalid(t.def.kind, t.def.group, m.name ?? '', causes);
}

async function admit(ctx: Ctx, req: AdmissionRequest): Promise<void> {
  for (const hook of ctx.hooks.get(req.resource.plural) ?? []) {
    const r = await hook(req);
    if (!r) continue;
    const code = r.code ?? 400;
    const reason = r.reason ?? (code === 422 ? 'Invalid' : code === 403 ? 'Forbidden' : 'BadRequest');
    const message = r.webhook
      ? `admission webhook "${r.webhook}" denied the request: ${r.message}`
      : r.message;
    throw new KubeError(code, reason, message, {
      name: req.name,
      group: req.resource.group || undefined,
      kind: code === 422 ? req.resource.kind : req.resource.plural,
      causes: r.causes,
    });
  }
}

export async function create(
  ctx: Ctx,
  t: Target,
  q: URLSearchParams,
  body: unknown,
  res: ServerResponse,
): Promise<void> {
  const o = decodeCheck(t, body);
  const dryRun = q.get('dryRun') === 'All';
  if (t.def.statusSubresource) delete o.status;
  const m = o.metadata;
  if (!m.name && m.generateName) {
    const base = m.generateName.slice(0, 58);
    do m.name = base + randomSuffix();
    while (ctx.store.get(t.def, t.namespace, m.name));
  }
  validateMeta(t, o);
  if (ctx.store.get(t.def, t.namespace, m.name))
    throw errors.alreadyExists(t.def.group, t.def.plural, m.name);
  await admit(ctx, {
    operation: 'CREATE',
    resource: t.def,
    namespace: t.namespace,
    name: m.name,
    object: o,
    dryRun,
  });
  const created = ctx.store.create(t.def, t.namespace, o, { dryRun });
  sendJson(res, 201, view(t, created));
}

export function get(ctx: Ctx, t: Target, res: ServerResponse): void {
  const o = ctx.store.get(t.def, t.namespace, t.name!);
  if (!o) throw errors.notFound(t.def.group, t.def.plural, t.name!);
  sendJson(res, 200, view(t, o));
}

export function list(ctx: Ctx, t: Target, q: URLSearchParams, res: ServerResponse): void {
  const sel = selectorOf(q, t.def);
  const page = ctx.store.page(t.def, t.namespace, sel, intParam(q, 'limit'), q.get('continue') ?? undefined);
  const metadata: Record<string, unknown> = { resourceVersion: String(page.rv) };
  if (page.continue) {
    metadata.continue = page.continue;
    metadata.remainingItemCount = page.remaining;
  }
  sendJson(res, 200, {
    apiVersion: apiVersionOf(t.def, t.version),
    kind: `${t.def.kind}List`,
    metadata,
    // Typed (core) lists omit each item's apiVersion/kind; custom resource lists keep them.
    items: page.items.map((o) => {
      if (t.def.custom) return view(t, o);
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    }),
  });
}

export function watch(ctx: Ctx, t: Target, q: URLSearchParams, res: ServerResponse): void {
  const selector = selectorOf(q, t.def);
  if (t.name) selector.fields.push({ field: 'metadata.name', value: t.name, negate: false });
  const rv = q.get('resourceVersion') ?? undefined;
  if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) {
    throw errors.badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  }
  ctx.watches.serve(
    {
      def: t.def,
      version: t.version,
      namespace: t.namespace,
      selector,
      resourceVersion: rv,
      timeoutSeconds: intParam(q, 'timeoutSeconds'),
      allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
      sendInitialEvents: boolParam(q, 'sendInitialEvents'),
    },
    res,
  );
}

/** Keep what the endpoint may not change: status on the main resource, everything else on /status. */
function scope(t: Target, incoming: KubeObject, current: KubeObject): KubeObject {
  if (!t.def.statusSubresource) return incoming;
  if (t.subresource === 'status') {
    return {
      ...structuredClone(current),
      status: incoming.status,
      metadata: { ...current.metadata, resourceVersion: incoming.metadata.resourceVersion },
    };
  }
  const out = { ...incoming };
  if (current.status === undefined) delete out.status;
  else out.status = structuredClone(current.status);
  return out;
}

async function write(
  ctx: Ctx,
  t: Target,
  q: URLSearchParams,
  o: KubeObject,
  current: KubeObject,
  res: ServerResponse,
) {
  const dryRun = q.get('dryRun') === 'All';
  validateMeta(t, o);
  if (t.subresource !== 'status') {
    await admit(ctx, {
      operation: 'UPDATE',
      resource: t.def,
      namespace: t.namespace,
      name: t.name!,
      object: o,
      oldObject: current,
      dryRun,
    });
  }
  const expectRv = o.metadata.resourceVersion || undefined;
  const updated = ctx.store.update(
    t.def,
    { ...o, metadata: { ...o.metadata, namespace: t.namespace! } },
    { expectRv, dryRun },
  );
  sendJson(res, 200, view(t, updated));
}

export async function update(
  ctx: Ctx,
  t: Target,
  q: URLSearchParams,
  body: unknown,
  res: ServerResponse,
): Promise<void> {
  const o = decodeCheck(t, body);
  if (o.metadata.name && o.metadata.name !== t.name) {
    throw errors.badRequest(
      `the name of the object (${o.metadata.name}) does not match the name on the URL (${t.name})`,
    );
  }
  o.metadata.name = t.name!;
  const current = ctx.store.get(t.def, t.namespace, t.name!);
  if (!current) throw errors.notFound(t.def.group, t.def.plural, t.name!);
  if (!o.metadata.resourceVersion && !t.def.unconditionalUpdate) {
    throw errors.invalid(t.def.kind, t.def.group, t.name!, [
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.resourceVersion',
        message: 'Invalid value: 0x0: must be specified for an update',
      },
    ]);
  }
  await write(ctx, t, q, scope(t, o, current), current, res);
}

export async function patch(
  ctx: Ctx,
  t: Target,
  q: URLSearchParams,
  body: unknown,
  contentType: string,
  res: ServerResponse,
): Promise<void> {
  const current = ctx.store.get(t.def, t.namespace, t.name!);
  if (!current) throw errors.notFound(t.def.group, t.def.plural, t.name!);
  if (t.def.custom && contentType === PATCH_TYPES.strategic) {
    // Custom resources have no schema to merge lists by key: the apiserver refuses strategic merge.
    throw new KubeError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  }
  const patched: KubeObject = applyPatch(current, body, contentType);
  if (patched === null || typeof patched !== 'object' || !patched.metadata) {
    throw errors.badRequest('the patch produced an object without metadata');
  }
  // A patch that sets metadata.resourceVersion is a precondition, like an update's.
  if (
    patched.metadata.resourceVersion &&
    patched.metadata.resourceVersion !== current.metadata.resourceVersion
  ) {
    throw errors.conflict(t.def.group, t.def.plural, t.name!);
  }
  patched.metadata.resourceVersion = current.metadata.resourceVersion;
  patched.metadata.name = current.metadata.name;
  await write(ctx, t, q, scope(t, patched, current), current, res);
}

export function remove(ctx: Ctx, t: Target, q: URLSearchParams, body: any, res: ServerResponse): void {
  const propagation = (q.get('propagationPolicy') ?? body?.propagationPolicy ?? undefined) as
    | Propagation
    | undefined;
  const dryRun = q.get('dryRun') === 'All' || (Array.isArray(body?.dryRun) && body.dryRun.includes('All'));
  const gone = ctx.store.remove(t.def, t.namespace, t.name!, {
    dryRun,
    propagation,
    expectUid: body?.preconditions?.uid,
    expectRv: body?.preconditions?.resourceVersion,
  });
  if (t.def.deleteReturnsObject) {
    sendJson(res, 200, view(t, gone));
    return;
  }
  sendJson(res, 200, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: {
      name: gone.metadata.name,
      group: t.def.group || undefined,
      kind: t.def.plural,
      uid: gone.metadata.uid,
    },
  });
}

export function removeCollection(
  ctx: Ctx,
  t: Target,
  q: URLSearchParams,
  body: any,
  res: ServerResponse,
): void {
  const sel = selectorOf(q, t.def);
  const propagation = (q.get('propagationPolicy') ?? body?.propagationPolicy ?? undefined) as
    | Propagation
    | undefined;
  const items = ctx.store
    .list(t.def, t.namespace, sel)
    .map((o) => ctx.store.remove(t.def, o.metadata.namespace, o.metadata.name, { propagation }));
  sendJson(res, 200, {
    apiVersion: apiVersionOf(t.def, t.version),
    kind: `${t.def.kind}List`,
    metadata: { resourceVersion: String(ctx.store.rv) },
    items: items.map((o) => view(t, o)),
  });
}

export function podLog(ctx: Ctx, t: Target, q: URLSearchParams, res: ServerResponse): void {
  const pod = ctx.store.get(t.def, t.namespace, t.name!);
  if (!pod) throw errors.notFound('', 'pods', t.name!);
  const query: LogQuery = {
    container: q.get('container') ?? undefined,
    follow: boolParam(q, 'follow'),
    timestamps: boolParam(q, 'timestamps'),
    previous: boolParam(q, 'previous'),
    sinceTime: q.get('sinceTime') ?? undefined,
    sinceSeconds: intParam(q, 'sinceSeconds'),
    tailLines: intParam(q, 'tailLines'),
    limitBytes: intParam(q, 'limitBytes'),
  };
  const container = ctx.logs.resolveContainer(pod, query);
  ctx.logs.serve(pod, container, query, res);
}

export async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new KubeError(413, 'RequestEntityTooLarge', 'the request is too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export { sendJson };
