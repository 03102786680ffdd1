// The two stacks of the embedded engine, Debian 12 based: a run image (what apps run on) and a build
// image (what buildpacks run on, a superset). Both are as small as practical while usable: no
// maintainer-script machinery (debconf, perl), docs and translations pruned.
import type { StackUser } from './rootfs/accounts.ts';
import { DEFAULT_PRUNE } from './rootfs/prune.ts';
import type { Recipe } from './rootfs.ts';

/** The CNB user the lifecycle runs builds and apps as (CNB_USER_ID/CNB_GROUP_ID). */
export const CNB_USER: StackUser = { name: 'cnb', uid: 1000, gid: 1000, home: '/home/cnb' };

/** Packages of the run image, also the base of the build image. */
const RUN_PACKAGES = [
  'base-files', // /etc/os-release, FHS directories, /etc/profile
  'libc6',
  'libc-bin', // the C.UTF-8 locale (/usr/lib/locale/C.utf8), /etc/nsswitch.conf, getent, ldd
  'libgcc-s1',
  'libstdc++6',
  'libssl3',
  'openssl', // ships /usr/lib/ssl/cert.pem → the CA bundle, where OpenSSL clients look by default
  'zlib1g',
  'ca-certificates',
  'tzdata',
  'netbase', // /etc/services, /etc/protocols
  'bash', // also /bin/sh (bash's postinst link, as dash is not installed)
  'coreutils',
  'busybox', // `busybox httpd` serves static sites; its other applets are not linked
];

/**
 * debconf is only used by maintainer scripts, which never run here (it would also need perl);
 * dash's postinst needs dpkg-divert, so the run image does without dash and dpkg.
 */
const RUN_EXCLUDE = ['debconf', 'perl-base'];

/** Leap-second ("right/") zones: a duplicate of every zone that nothing in an image uses. */
const RUN_PRUNE = [...DEFAULT_PRUNE, 'usr/share/zoneinfo/right/**'];

export const RUN_RECIPE: Recipe = {
  name: 'bookworm-run',
  packages: RUN_PACKAGES,
  exclude: RUN_EXCLUDE,
  users: [CNB_USER],
  prune: RUN_PRUNE,
};

/**
 * Besides the run image's: perl (git's core commands are C; only send-email, svn, cvs and a few
 * rarely used helpers are perl scripts) with the perl library git pulls in; git-man (manuals, pruned
 * anyway); and what only maintainer scripts use: adduser (apt's postinst creating the _apt user, which
 * apt run as non-root does not use), init-system-helpers (service registration), usrmerge (converts to
 * the merged /usr this tree already has).
 */
const BUILD_EXCLUDE = [
  ...RUN_EXCLUDE,
  'perl',
  'liberror-perl',
  'git-man',
  'adduser',
  'init-system-helpers',
  'usrmerge',
  'usr-is-merged',
];

export const BUILD_RECIPE: Recipe = {
  name: 'bookworm-build',
  packages: [
    ...RUN_PACKAGES,
    'dash', // Debian's /bin/sh; shell buildpacks' scripts are tested against it
    'findutils',
    'grep',
    'sed',
    'gawk',
    'tar',
    'gzip',
    'xz-utils',
    'zstd',
    'curl',
    'git',
    'jq',
    'dpkg', // dpkg-deb, to unpack .debs without installing them
    'apt', // an Aptfile buildpack runs apt-get as the cnb user with its own state directories
    'gpgv',
    'debian-archive-keyring',
    'diffutils',
    'procps',
    'file',
    'unzip',
    'make',
  ],
  exclude: BUILD_EXCLUDE,
  users: [CNB_USER],
  prune: RUN_PRUNE,
};

export const RECIPES: Readonly<Record<string, Recipe>> = {
  [RUN_RECIPE.name]: RUN_RECIPE,
  [BUILD_RECIPE.name]: BUILD_RECIPE,
};
