// Checks that an OpenAPI document (ours) is a superset of a reference document (upstream builds API):
// every reference path+method, parameter, response status and schema property, with the same types and
// at least the same enum values. Properties reached through allOf and $ref are compared too.
type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function deref(doc: Json, node: unknown): Json {
  let cur = node as Json;
  const seen = new Set<string>();
  while (cur && typeof cur.$ref === 'string') {
    const ref = cur.$ref;
    if (seen.has(ref)) break;
    seen.add(ref);
    const parts = ref.replace(/^#\//, '').split('/');
    cur = parts.reduce<unknown>((acc, p) => (acc as Json)?.[p], doc) as Json;
  }
  return cur ?? {};
}

/** A schema with allOf parts merged and $refs resolved at the top. */
function flatten(doc: Json, node: unknown): Json {
  const s = deref(doc, node);
  if (!Array.isArray(s.allOf)) return s;
  const merged: Json = { ...s, properties: { ...((s.properties as Json) ?? {}) } };
  delete merged.allOf;
  for (const part of s.allOf) {
    const p = flatten(doc, part);
    if (p.type && !merged.type) merged.type = p.type;
    Object.assign(merged.properties as Json, (p.properties as Json) ?? {});
  }
  return merged;
}

function compareSchemas(
  ref: Json,
  refNode: unknown,
  ours: Json,
  ourNode: unknown,
  where: string,
  out: string[],
  depth = 0,
) {
  if (depth > 12) return;
  const a = flatten(ref, refNode);
  const b = flatten(ours, ourNode);
  if (a.type !== undefined && a.type !== b.type) {
    out.push(`${where}: type ${JSON.stringify(a.type)} in the reference, ${JSON.stringify(b.type)} in ours`);
    return;
  }
  if (Array.isArray(a.enum)) {
    const mine = new Set((b.enum as unknown[]) ?? []);
    for (const v of a.enum) if (!mine.has(v)) out.push(`${where}: enum value ${JSON.stringify(v)} missing`);
  }
  for (const [name, sub] of Object.entries((a.properties as Json) ?? {})) {
    const mine = (b.properties as Json | undefined)?.[name];
    if (mine === undefined) out.push(`${where}.${name}: property missing`);
    else compareSchemas(ref, sub, ours, mine, `${where}.${name}`, out, depth + 1);
  }
  if (a.items) {
    if (!b.items) out.push(`${where}[]: items missing`);
    else compareSchemas(ref, a.items, ours, b.items, `${where}[]`, out, depth + 1);
  }
  if (a.additionalProperties && typeof a.additionalProperties === 'object') {
    const mine = b.additionalProperties;
    if (!mine || typeof mine !== 'object') out.push(`${where}{}: additionalProperties missing`);
    else compareSchemas(ref, a.additionalProperties, ours, mine, `${where}{}`, out, depth + 1);
  }
}

function contentSchema(doc: Json, response: unknown): Json | undefined {
  const r = deref(doc, response);
  const content = r.content as Record<string, { schema?: unknown }> | undefined;
  if (!content) return undefined;
  const first = Object.values(content)[0];
  return first?.schema as Json | undefined;
}

/** Every way `ours` fails to be a superset of `ref`; empty when it is one. */
export function supersetProblems(ref: Json, ours: Json): string[] {
  const out: string[] = [];
  const refPaths = (ref.paths as Record<string, Json>) ?? {};
  const ourPaths = (ours.paths as Record<string, Json>) ?? {};
  for (const [path, item] of Object.entries(refPaths)) {
    for (const method of METHODS) {
      const refOp = item[method] as Json | undefined;
      if (!refOp) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const ourOp = ourPaths[path]?.[method] as Json | undefined;
      if (!ourOp) {
        out.push(`${where}: operation missing`);
        continue;
      }
      const ourParams = ((ourOp.parameters as Json[]) ?? []).map((p) => deref(ours, p));
      for (const p of ((refOp.parameters as Json[]) ?? []).map((x) => deref(ref, x))) {
        const mine = ourParams.find((q) => q.name === p.name && q.in === p.in);
        if (!mine) out.push(`${where}: parameter ${p.in} ${p.name} missing`);
        else compareSchemas(ref, p.schema, ours, mine.schema, `${where} parameter ${p.name}`, out);
      }
      const refBody = contentSchema(ref, refOp.requestBody);
      if (refBody) {
        const mine = contentSchema(ours, ourOp.requestBody);
        if (!mine) out.push(`${where}: request body missing`);
        else compareSchemas(ref, refBody, ours, mine, `${where} body`, out);
      }
      const ourResponses = (ourOp.responses as Json) ?? {};
      for (const [status, response] of Object.entries((refOp.responses as Json) ?? {})) {
        if (!(status in ourResponses)) {
          out.push(`${where}: response ${status} missing`);
          continue;
        }
        const refSchema = contentSchema(ref, response);
        const mine = contentSchema(ours, ourResponses[status]);
        if (refSchema && !mine) out.push(`${where} ${status}: response body missing`);
        else if (refSchema) compareSchemas(ref, refSchema, ours, mine, `${where} ${status}`, out);
      }
    }
  }
  return out;
}
