/** Labels on our stack images (CNB "Target Data" plus our record of what went in). */
export const BASE_ID = 'org.toolforge.stacks.bookworm';
export const PACKAGES_LABEL = 'org.toolforge.stack.packages';
export const SUITES_LABEL = 'org.toolforge.stack.debian-suites';
export const BUILDPACKS_HASH_LABEL = 'org.toolforge.builder.source-sha256';
export const FORMAT_LABEL = 'org.toolforge.stack.format';
/** Bumped when the way stacks are assembled changes, so `ensure` rebuilds stacks made by older code. */
export const STACK_FORMAT = '3';

export function stackLabels(
  kind: 'run' | 'build',
  distro: { name: string; version: string },
): Record<string, string> {
  return {
    'io.buildpacks.base.id': BASE_ID,
    'io.buildpacks.base.distro.name': distro.name,
    'io.buildpacks.base.distro.version': distro.version,
    'io.buildpacks.base.maintainer': 'Toolforge build service',
    'io.buildpacks.base.description': `Toolforge Debian ${distro.version} ${kind} image, assembled from Debian packages`,
    'io.buildpacks.rebasable': 'true',
    // Deprecated since Platform API 0.12, still read by older tools.
    'io.buildpacks.stack.id': BASE_ID,
  };
}
