// JSON Patch (RFC 6902) and JSON Merge Patch (RFC 7386). Strategic merge patch is treated as a merge
// patch: lists are replaced whole instead of merged by key (see README).
import { errors, KubeError } from './errors.ts';

type Json = any;

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export function applyPatch(target: Json, patch: Json, contentType: string): Json {
  switch (contentType) {
    case PATCH_TYPES.json:
      return applyJsonPatch(target, patch);
    case PATCH_TYPES.merge:
    case PATCH_TYPES.strategic:
      if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
        throw errors.badRequest('error decoding patch: a merge patch must be a JSON object');
      }
      return mergePatch(target, patch);
    case PATCH_TYPES.apply:
      throw new KubeError(
        415,
        'UnsupportedMediaType',
        'server-side apply is not implemented by the fake apiserver',
      );
    default:
      throw errors.unsupportedMediaType(contentType || '(none)');
  }
}

export function mergePatch(target: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Json =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw invalidPatch(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map(unescapeToken);
}

function invalidPatch(message: string): KubeError {
  return new KubeError(
    422,
    'Invalid',
    `the server rejected our request due to an error in our request: ${message}`,
    {
      causes: [{ reason: 'FieldValueInvalid', message }],
    },
  );
}

function parent(doc: Json, tokens: string[], path: string): { container: Json; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') throw invalidPatch(`doc is missing path: "${path}"`);
    cur = Array.isArray(cur) ? cur[index(cur, t, path, false)] : cur[t];
    if (cur === undefined) throw invalidPatch(`doc is missing path: "${path}": missing value`);
  }
  if (cur === null || typeof cur !== 'object') throw invalidPatch(`doc is missing path: "${path}"`);
  return { container: cur, key: tokens[tokens.length - 1]! };
}

function index(arr: Json[], token: string, path: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw invalidPatch(`invalid array index "${token}" in "${path}"`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw invalidPatch(`index out of range in "${path}"`);
  return i;
}

function get(doc: Json, path: string): Json {
  let cur = doc;
  for (const t of parsePointer(path)) {
    if (cur === null || typeof cur !== 'object') throw invalidPatch(`doc is missing path: "${path}"`);
    cur = Array.isArray(cur) ? cur[index(cur, t, path, false)] : cur[t];
    if (cur === undefined) throw invalidPatch(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function add(doc: Json, path: string, value: Json): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return structuredClone(value);
  const { container, key } = parent(doc, tokens, path);
  if (Array.isArray(container))
    container.splice(index(container, key, path, true), 0, structuredClone(value));
  else container[key] = structuredClone(value);
  return doc;
}

function remove(doc: Json, path: string): Json {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw invalidPatch('cannot remove the whole document');
  const { container, key } = parent(doc, tokens, path);
  if (Array.isArray(container)) container.splice(index(container, key, path, false), 1);
  else {
    if (!Object.hasOwn(container, key))
      throw invalidPatch(`unable to remove nonexistent key: ${key}: missing value`);
    delete container[key];
  }
  return doc;
}

export function applyJsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops))
    throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  for (const op of ops) {
    if (op === null || typeof op !== 'object' || typeof op.path !== 'string') {
      throw errors.badRequest('json patch operation is missing "path"');
    }
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw invalidPatch(`add operation does not apply: missing value`);
        doc = add(doc, op.path, op.value);
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'replace':
        get(doc, op.path);
        doc = remove(doc, op.path);
        doc = add(doc, op.path, op.value);
        break;
      case 'move': {
        const v = get(doc, op.from);
        doc = remove(doc, op.from);
        doc = add(doc, op.path, v);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, get(doc, op.from));
        break;
      case 'test':
        if (JSON.stringify(get(doc, op.path)) !== JSON.stringify(op.value)) {
          throw invalidPatch(`testing value ${op.path} failed: test failed`);
        }
        break;
      default:
        throw errors.badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}
