import { isDigest } from './digest.ts';
import { OciFormatError } from './errors.ts';
import { isIndexType, isManifestType } from './media-types.ts';

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  artifactType?: string;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The `config` member of an image config (Docker-style capitalised keys). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
}

export interface HistoryEntry {
  created?: string;
  author?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** Unknown members are kept as parsed (the spec says to ignore them, and we never rewrite foreign configs). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

export type ManifestOrIndex =
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; index: ImageIndex };

type Json = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new OciFormatError(`${path}: ${message}`);
}

function parseJson(input: Uint8Array | string, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch (err) {
    fail(what, `not valid JSON (${(err as Error).message})`);
  }
  return object(value, what);
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object');
  return value as Json;
}

function optString(obj: Json, key: string, path: string): void {
  if (obj[key] !== undefined && typeof obj[key] !== 'string') fail(`${path}.${key}`, 'must be a string');
}

function optStringMap(obj: Json, key: string, path: string): void {
  if (obj[key] === undefined || obj[key] === null) return; // Docker writes "Labels": null
  const map = object(obj[key], `${path}.${key}`);
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string') fail(`${path}.${key}.${k}`, 'must be a string');
  }
}

function optStringArray(obj: Json, key: string, path: string, nullable = false): void {
  const v = obj[key];
  if (v === undefined || (nullable && v === null)) return;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
    fail(`${path}.${key}`, 'must be an array of strings');
}

function array(obj: Json, key: string, path: string): unknown[] {
  const v = obj[key];
  if (!Array.isArray(v)) fail(`${path}.${key}`, 'must be an array');
  return v;
}

function checkSchemaVersion(obj: Json, path: string): void {
  if (obj.schemaVersion !== 2)
    fail(`${path}.schemaVersion`, `must be 2, got ${JSON.stringify(obj.schemaVersion)}`);
}

export function validateDescriptor(value: unknown, path = 'descriptor'): Descriptor {
  const d = object(value, path);
  if (typeof d.mediaType !== 'string' || d.mediaType === '')
    fail(`${path}.mediaType`, 'must be a non-empty string');
  if (!isDigest(d.digest)) fail(`${path}.digest`, `invalid digest ${JSON.stringify(d.digest)}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    fail(`${path}.size`, 'must be a non-negative integer');
  }
  optStringArray(d, 'urls', path);
  optStringMap(d, 'annotations', path);
  optString(d, 'data', path);
  optString(d, 'artifactType', path);
  if (d.platform !== undefined) {
    const p = object(d.platform, `${path}.platform`);
    if (typeof p.os !== 'string' || typeof p.architecture !== 'string') {
      fail(`${path}.platform`, 'needs string os and architecture');
    }
    optString(p, 'variant', `${path}.platform`);
  }
  return d as unknown as Descriptor;
}

/** Rejects a body whose `mediaType` contradicts the type it was served or stored as. */
function checkMediaType(obj: Json, expected: string | undefined, path: string): void {
  optString(obj, 'mediaType', path);
  if (expected !== undefined && obj.mediaType !== undefined && obj.mediaType !== expected) {
    fail(`${path}.mediaType`, `is ${JSON.stringify(obj.mediaType)} but content was labelled ${expected}`);
  }
}

export function parseManifest(input: Uint8Array | string, mediaType?: string): ImageManifest {
  const m = parseJson(input, 'manifest');
  checkSchemaVersion(m, 'manifest');
  checkMediaType(m, mediaType, 'manifest');
  if (m.mediaType !== undefined && !isManifestType(m.mediaType as string)) {
    fail('manifest.mediaType', `${JSON.stringify(m.mediaType)} is not an image manifest type`);
  }
  validateDescriptor(m.config, 'manifest.config');
  for (const [i, l] of array(m, 'layers', 'manifest').entries())
    validateDescriptor(l, `manifest.layers[${i}]`);
  if (m.subject !== undefined) validateDescriptor(m.subject, 'manifest.subject');
  optStringMap(m, 'annotations', 'manifest');
  return m as unknown as ImageManifest;
}

export function parseIndex(input: Uint8Array | string, mediaType?: string): ImageIndex {
  const x = parseJson(input, 'index');
  checkSchemaVersion(x, 'index');
  checkMediaType(x, mediaType, 'index');
  if (x.mediaType !== undefined && !isIndexType(x.mediaType as string)) {
    fail('index.mediaType', `${JSON.stringify(x.mediaType)} is not an index type`);
  }
  for (const [i, d] of array(x, 'manifests', 'index').entries())
    validateDescriptor(d, `index.manifests[${i}]`);
  optStringMap(x, 'annotations', 'index');
  return x as unknown as ImageIndex;
}

/**
 * Parses a manifest or an index; the kind comes from the body's `mediaType`, else from the served/stored
 * type, else from its shape (`manifests` vs `layers`).
 */
export function parseManifestOrIndex(input: Uint8Array | string, mediaType?: string): ManifestOrIndex {
  const raw = parseJson(input, 'manifest');
  const declared = typeof raw.mediaType === 'string' ? raw.mediaType : mediaType;
  const isIndex = declared !== undefined ? isIndexType(declared) : Array.isArray(raw.manifests);
  if (declared !== undefined && !isIndex && !isManifestType(declared)) {
    throw new OciFormatError(`manifest: unsupported media type ${JSON.stringify(declared)}`);
  }
  if (isIndex) {
    const index = parseIndex(input, mediaType);
    return {
      kind: 'index',
      mediaType: declared ?? index.mediaType ?? 'application/vnd.oci.image.index.v1+json',
      index,
    };
  }
  const manifest = parseManifest(input, mediaType);
  return {
    kind: 'manifest',
    mediaType: declared ?? manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
    manifest,
  };
}

export function parseImageConfig(input: Uint8Array | string): ImageConfig {
  const c = parseJson(input, 'config');
  if (typeof c.os !== 'string' || c.os === '') fail('config.os', 'must be a non-empty string');
  if (typeof c.architecture !== 'string' || c.architecture === '') {
    fail('config.architecture', 'must be a non-empty string');
  }
  for (const k of ['created', 'author', 'variant', 'os.version']) optString(c, k, 'config');
  const rootfs = object(c.rootfs, 'config.rootfs');
  if (rootfs.type !== 'layers') fail('config.rootfs.type', 'must be "layers"');
  for (const [i, d] of array(rootfs, 'diff_ids', 'config.rootfs').entries()) {
    if (!isDigest(d)) fail(`config.rootfs.diff_ids[${i}]`, `invalid digest ${JSON.stringify(d)}`);
  }
  if (c.config !== undefined && c.config !== null) {
    const cc = object(c.config, 'config.config');
    for (const k of ['User', 'WorkingDir', 'StopSignal']) optString(cc, k, 'config.config');
    optStringArray(cc, 'Env', 'config.config', true);
    optStringArray(cc, 'Entrypoint', 'config.config', true);
    optStringArray(cc, 'Cmd', 'config.config', true);
    optStringMap(cc, 'Labels', 'config.config');
  }
  if (c.history !== undefined) {
    for (const [i, h] of array(c, 'history', 'config').entries()) object(h, `config.history[${i}]`);
  }
  return c as unknown as ImageConfig;
}
