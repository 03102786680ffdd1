/**
 * The registry policy's decision table: the one list of cases that checkImage, the admission webhook
 * handler and the ValidatingAdmissionPolicy's CEL are all tested against (README.md explains each rule).
 * The policy is given as ConfigMap data, the format both the webhook and the CEL read.
 */

export interface DecisionRow {
  image: string;
  namespace: string;
  allowed: boolean;
  /** Besides the image and the allowed registries, which every denial names. */
  messageIncludes?: string;
  why: string;
}

export const HEX = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);
export const HEX2 = 'b'.repeat(64);
const HEX512 = 'c'.repeat(128);
const HARBOR = 'tools-harbor.wmcloud.org';

export const TABLE_CONFIGMAP_DATA: Readonly<Record<string, string>> = {
  allowedRegistries:
    'tools-harbor.wmcloud.org, docker-registry.tools.wmflabs.org,docker-registry.svc.toolforge.org',
  curated: [
    '# curated images that live outside the allowed registries',
    'quay.io/wikimedia/curated-tool:1.0',
    `  ghcr.io/wikimedia/pinned:2.0@sha256:${HEX}  `,
    '',
  ].join('\n'),
  'namespace.tool-b': 'quay.io',
  'namespace.tool-hub': ' docker.io , localhost:5000 ',
};

const row = (allowed: boolean, image: string, why: string, namespace = 'tool-a', messageIncludes?: string) =>
  ({ image, namespace, allowed, why, ...(messageIncludes ? { messageIncludes } : {}) }) as DecisionRow;
const allow = (image: string, why: string, namespace?: string) => row(true, image, why, namespace);
const deny = (image: string, why: string, messageIncludes?: string, namespace?: string) =>
  row(false, image, why, namespace, messageIncludes);

export const DECISION_TABLE: readonly DecisionRow[] = [
  // Allowed registries, matched exactly.
  allow(`${HARBOR}/tool-x/img:latest`, 'Harbor image with a tag'),
  allow(`${HARBOR}/tool-x/img:latest@sha256:${HEX}`, 'Harbor image with tag and digest'),
  allow(`${HARBOR}/tool-x/img@sha256:${HEX}`, 'Harbor image by digest'),
  allow(`${HARBOR}/tool-x/img@sha512:${HEX512}`, 'sha512 digest'),
  allow(`${HARBOR}/tool-x/my__img.v2-a--b:1.0_rc-1`, 'every separator of the grammar'),
  allow('docker-registry.tools.wmflabs.org/toolforge-python311-sssd-web:latest', 'legacy registry'),
  allow('docker-registry.svc.toolforge.org/toolforge-bookworm-sssd', 'internal registry, no tag'),
  allow(`${HARBOR}/tool-x/img:${'t'.repeat(128)}`, 'a 128-character tag'),
  allow(`${HARBOR}/tool-x/img:latest`, 'global registries apply in namespaces with exceptions', 'tool-b'),
  // The curated catalogue: exact references; a tag entry also admits itself pinned.
  allow('quay.io/wikimedia/curated-tool:1.0', 'curated entry'),
  allow(`quay.io/wikimedia/curated-tool:1.0@sha256:${HEX}`, 'curated repo:tag, pinned'),
  deny('quay.io/wikimedia/curated-tool:1.1', 'another tag of a curated repository', 'quay.io'),
  deny('quay.io/wikimedia/curated-tool', 'no tag is not the curated tag'),
  deny('quay.io/wikimedia/curated-tool:1.00', 'a tag extending the curated one'),
  deny(`quay.io/wikimedia/curated-tool@sha256:${HEX}`, 'digest without the curated tag'),
  allow(`ghcr.io/wikimedia/pinned:2.0@sha256:${HEX}`, 'digest-pinned curated entry'),
  deny(`ghcr.io/wikimedia/pinned:2.0@sha256:${HEX2}`, 'pinned entry, other digest'),
  deny('ghcr.io/wikimedia/pinned:2.0', 'pinned entry, unpinned'),
  deny(`ghcr.io/wikimedia/pinned@sha256:${HEX}`, 'pinned entry, without its tag'),
  deny('# curated images that live outside the allowed registries', 'a comment line is not an entry'),
  // Hosts that only look allowed.
  deny(`${HARBOR}.evil.com/x`, 'allowed host as a prefix', 'registry "tools-harbor.wmcloud.org.evil.com"'),
  deny(`evil.com/${HARBOR}/x`, 'allowed host as a path'),
  deny(`${HARBOR}./tool-x/img`, 'trailing dot', 'not a valid registry host'),
  deny('TOOLS-HARBOR.WMCLOUD.ORG/tool-x/img', 'hosts compare exactly, case included'),
  deny('tools-harbor.wmcloud.оrg/tool-x/img', 'Cyrillic о', 'not a valid registry host'),
  deny(`${HARBOR}:8443/x`, 'port not allowlisted', 'registry "tools-harbor.wmcloud.org:8443"'),
  deny('docker-registry.tools.wmflabs.org:443/x', 'even the default port'),
  deny(`https://${HARBOR}/tool-x/img`, 'a URL is not a reference'),
  deny(`user@${HARBOR}/x`, 'userinfo-looking host', 'not a valid registry host'),
  deny('user@host/x', 'userinfo-looking, no dot', 'digest is malformed'),
  deny(`${HARBOR}\\tool-x/img`, 'backslash'),
  // Implicit Docker Hub.
  deny('nginx', 'implicit Docker Hub', 'implicit Docker Hub image (docker.io/library/nginx)'),
  deny('library/nginx', 'implicit Docker Hub', 'docker.io/library/nginx'),
  deny('docker.io/nginx', 'explicit Docker Hub', 'registry "docker.io"'),
  deny('bitnami/redis:7', 'implicit Docker Hub, two components', 'docker.io/bitnami/redis'),
  deny(HARBOR, 'a host alone is a Docker Hub name', 'implicit Docker Hub'),
  allow('nginx', 'docker.io allowlisted for this namespace', 'tool-hub'),
  allow('docker.io/library/nginx:1.27', 'docker.io allowlisted for this namespace', 'tool-hub'),
  deny('index.docker.io/library/nginx', 'no host aliases', undefined, 'tool-hub'),
  // Repository paths.
  deny(`${HARBOR}/Tool-x/img`, 'upper case in the path', 'not all lower case'),
  deny('Nginx', 'upper case, implicit', 'not all lower case'),
  deny(`${HARBOR}/tool-x/../tool-y/img`, '..', '".."'),
  deny(`${HARBOR}/./img`, '.', '".."'),
  deny(`${HARBOR}//img`, 'empty component', 'empty'),
  deny(`${HARBOR}/tool-x/img/`, 'trailing slash', 'empty'),
  deny(`${HARBOR}/`, 'no repository', 'no repository'),
  deny(`${HARBOR}/tool-x/my___img`, 'three underscores'),
  deny(`${HARBOR}/tool-x/-img`, 'leading separator'),
  deny(`${HARBOR}/tool-x/img?x=1`, 'query'),
  // Tags and digests.
  deny(`${HARBOR}/tool-x/img:${'t'.repeat(129)}`, 'a 129-character tag', 'not a valid tag'),
  deny(`${HARBOR}/tool-x/img:-x`, 'tag starting with -', 'not a valid tag'),
  deny(`${HARBOR}/tool-x/img:latest:latest`, 'two tags'),
  deny(`${HARBOR}/tool-x/img:`, 'empty tag'),
  deny(`${HARBOR}/tool-x/img@sha256:abc`, 'short digest', 'digest is malformed'),
  deny(`${HARBOR}/tool-x/img@sha256:${HEX.toUpperCase()}`, 'upper-case digest', 'digest is malformed'),
  deny(`${HARBOR}/tool-x/img@md5:${HEX}`, 'unknown algorithm', 'digest is malformed'),
  deny(`${HARBOR}/tool-x/img@`, 'empty digest', 'digest is malformed'),
  deny(`${HARBOR}/tool-x/img@sha256:${HEX}@sha256:${HEX}`, 'two digests'),
  deny(`@sha256:${HEX}`, 'digest without repository', 'without a repository'),
  deny(`sha256:${HEX}`, 'digest without @ or repository', 'without a repository'),
  deny(HEX, 'image ID', 'without a repository'),
  deny(`sha256:${HEX}`, 'bare digest even where Docker Hub is allowed', 'without a repository', 'tool-hub'),
  deny(HEX, 'image ID even where Docker Hub is allowed', 'without a repository', 'tool-hub'),
  // Empty and whitespace.
  deny('', 'empty', 'it is empty'),
  deny(' ', 'a space', 'whitespace'),
  deny(` ${HARBOR}/tool-x/img`, 'leading space', 'whitespace'),
  deny(`${HARBOR}/tool-x/img\n`, 'trailing newline', 'whitespace'),
  deny(`${HARBOR}/tool-x/img:lat\test`, 'tab', 'whitespace'),
  // Other registries and the per-namespace exception.
  deny('localhost:5000/x', 'local registry', 'registry "localhost:5000"'),
  allow('localhost:5000/x', 'allowlisted for this namespace', 'tool-hub'),
  deny('127.0.0.1:5000/tool-x/img', 'an IPv4 registry', 'registry "127.0.0.1:5000"'),
  deny('[::1]:5000/tool-x/img', 'IPv6 literals are not supported', 'not a valid registry host'),
  deny('localhost/x', 'localhost without the port', 'registry "localhost"', 'tool-hub'),
  allow('quay.io/foo/bar:1', 'namespace exception', 'tool-b'),
  deny('quay.io/foo/bar:1', 'another namespace’s exception', 'registry "quay.io"'),
  deny('quay.io/foo/bar:1', 'prototype keys are not namespaces', undefined, '__proto__'),
  deny('quay.io/foo/bar:1', 'prototype keys are not namespaces', undefined, 'constructor'),
  deny('quay.io/foo/bar:1', 'a namespace named like the key is not the key', undefined, 'namespace.tool-b'),
];
