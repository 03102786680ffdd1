/**
 * The image reference grammar (distribution/reference, the OCI distribution spec's `<name>` and tag),
 * written once as regular expression sources. They use no backslashes and no look-around, so the same
 * text works in JavaScript and in RE2 (Kubernetes CEL `matches`): the ValidatingAdmissionPolicy in
 * deploy/registry-policy/ embeds exactly these strings, and a test checks that it does.
 */

/** `localhost`, `tools-harbor.wmcloud.org` or `host:5000`. No IPv6 literals (none is ever allowlisted). */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
export const HOST = `${DOMAIN_COMPONENT}(?:[.]${DOMAIN_COMPONENT})*(?::[0-9]+)?`;

/** Lower case only; separators `.`, `_`, `__` or `-`s, never at either end, so never `..` or empty. */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
export const PATH = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;

export const TAG = '[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}';

/** Stricter than distribution (any algorithm, 32+ hex): the OCI-registered sha256 and sha512, lower case. */
export const DIGEST = '(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})';

/** What follows the host (or the whole reference when there is none). */
export const REMAINDER = `${PATH}(?::${TAG})?(?:@${DIGEST})?`;

/**
 * The first path component is a registry host when it contains `.` or `:` or is `localhost`
 * (docker's rule); otherwise the reference is an implicit Docker Hub image.
 */
export const EXPLICIT_HOST = '^(?:[^/]*[.:][^/]*|localhost)/';

/**
 * Digests or image IDs without a repository (`@sha256:…`, `sha256:…`, 64 hex): a runtime may resolve
 * them to any image already on the node, so they are refused even where Docker Hub is allowlisted.
 */
export const BARE_DIGEST = '^(?:@|sha256:|sha384:|sha512:|[a-f0-9]{64}$)';

export const FULL_WITH_HOST = `^${HOST}/${REMAINDER}$`;
export const FULL_WITHOUT_HOST = `^${REMAINDER}$`;

export const re = {
  host: new RegExp(`^${HOST}$`),
  pathComponent: new RegExp(`^${PATH_COMPONENT}$`),
  tag: new RegExp(`^${TAG}$`),
  digest: new RegExp(`^${DIGEST}$`),
  explicitHost: new RegExp(EXPLICIT_HOST),
  bareDigest: new RegExp(BARE_DIGEST),
  withHost: new RegExp(FULL_WITH_HOST),
  withoutHost: new RegExp(FULL_WITHOUT_HOST),
};
