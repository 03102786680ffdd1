import { re } from './grammar.ts';

/**
 * Which images workloads may run (README.md in this folder has the decision table). Pure: the
 * admission webhook and the ValidatingAdmissionPolicy in deploy/registry-policy/ decide the same way.
 */
export interface RegistryPolicy {
  /** Registries workloads may use, `host[:port]`, matched exactly (e.g. tools-harbor.wmcloud.org). */
  allowedRegistries: readonly string[];
  /** Image references of the curated catalogue (allowed wherever they live). */
  curated: readonly string[];
  /** The only exception (decision record T302863, option 4): extra registries per namespace. */
  namespaceAllowlist: Readonly<Record<string, readonly string[]>>;
}

export type Decision = { allowed: true } | { allowed: false; message: string; reason: string };

export interface ImageReference {
  /** `docker.io` for implicit Docker Hub images. */
  host: string;
  /** Repository path; implicit Docker Hub single names get `library/`, as docker does. */
  path: string;
  tag?: string;
  digest?: string;
  /** False when the reference names no registry (an implicit Docker Hub image). */
  explicitHost: boolean;
}

export const DOCKER_HUB = 'docker.io';

/** Splits a reference by the distribution grammar; `error` says what is wrong, for messages. */
export function parseImageReference(image: string): ImageReference | { error: string } {
  if (image === '') return { error: 'it is empty' };
  if (/\s/.test(image)) return { error: 'it contains whitespace' };
  if (re.bareDigest.test(image)) return { error: 'it is a digest or image ID without a repository' };
  const explicitHost = re.explicitHost.test(image);
  const slash = image.indexOf('/');
  const host = explicitHost ? image.slice(0, slash) : DOCKER_HUB;
  if (!re.host.test(host)) return { error: `${JSON.stringify(host)} is not a valid registry host[:port]` };
  const rest = explicitHost ? image.slice(slash + 1) : image;
  const at = rest.indexOf('@');
  const name = at === -1 ? rest : rest.slice(0, at);
  const digest = at === -1 ? undefined : rest.slice(at + 1);
  if (digest !== undefined && !re.digest.test(digest)) {
    return { error: 'its digest is malformed (sha256:<64 hex> or sha512:<128 hex>, lower case)' };
  }
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  const path = hasTag ? name.slice(0, colon) : name;
  const tag = hasTag ? name.slice(colon + 1) : undefined;
  if (path === '') return { error: 'it has no repository' };
  for (const component of path.split('/')) {
    if (component === '' || component === '.' || component === '..') {
      return { error: 'its repository path has an empty, "." or ".." component' };
    }
    if (/[A-Z]/.test(component)) return { error: 'its repository path is not all lower case' };
    if (!re.pathComponent.test(component))
      return { error: `${JSON.stringify(component)} is not a valid path component` };
  }
  if (tag !== undefined && !re.tag.test(tag)) return { error: `${JSON.stringify(tag)} is not a valid tag` };
  // The steps above only explain; the full grammar decides (what CEL evaluates too).
  if (!(explicitHost ? re.withHost : re.withoutHost).test(image)) {
    return { error: 'it is not a valid image reference' };
  }
  const normalized = host === DOCKER_HUB && !path.includes('/') ? `library/${path}` : path;
  return {
    host,
    path: normalized,
    explicitHost,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** The global registries plus the namespace's own exceptions (never another namespace's). */
export function registriesFor(namespace: string, policy: RegistryPolicy): string[] {
  const extra = Object.hasOwn(policy.namespaceAllowlist, namespace)
    ? (policy.namespaceAllowlist[namespace] ?? [])
    : [];
  return [...new Set([...policy.allowedRegistries, ...extra])];
}

/**
 * A curated entry allows exactly itself; an entry without a digest (`repo:tag`) also allows itself
 * pinned (`repo:tag@sha256:…`), the form tools deploy after resolving the tag. A digest-pinned entry
 * allows only that exact string.
 */
export function isCurated(image: string, curated: readonly string[]): boolean {
  return curated.some((c) => c === image || (!c.includes('@') && image.startsWith(`${c}@`)));
}

export function checkImage(image: string, namespace: string, policy: RegistryPolicy): Decision {
  const ref = parseImageReference(image);
  if (
    !('error' in ref) &&
    (isCurated(image, policy.curated) || registriesFor(namespace, policy).includes(ref.host))
  ) {
    return { allowed: true };
  }
  const reason =
    'error' in ref
      ? `it is not a valid image reference: ${ref.error}`
      : !ref.explicitHost
        ? `it is an implicit Docker Hub image (${DOCKER_HUB}/${ref.path})`
        : `registry "${ref.host}" is not allowed in namespace "${namespace}"`;
  return { allowed: false, reason, message: denialMessage(image, namespace, policy, reason) };
}

export function denialMessage(
  image: string,
  namespace: string,
  policy: RegistryPolicy,
  reason: string,
): string {
  return `Image ${JSON.stringify(image)} is not allowed: ${reason}; workloads in namespace "${namespace}" may use images from ${allowedText(namespace, policy)}`;
}

/** `a, b, c or the curated catalogue`. */
export function allowedText(namespace: string, policy: RegistryPolicy): string {
  const registries = registriesFor(namespace, policy);
  return registries.length
    ? `${registries.join(', ')} or the curated catalogue`
    : 'the curated catalogue only';
}
