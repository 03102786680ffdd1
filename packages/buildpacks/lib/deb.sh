# shellcheck shell=bash
# deb.sh — install Debian packages into a Cloud Native Buildpacks layer, as an unprivileged user, with
# apt itself. Shared by Toolforge's buildpacks that put Debian packages into launch layers (apt, python,
# php); the builder copies this file into each buildpack's lib/ folder.
#
#   source "$CNB_BUILDPACK_DIR/lib/deb.sh"
#   deb_layer "$layers/tools" "$layers/apt-cache" <salt> <package>... || exit 1  # install or reuse
#   cat >"$layers/tools.toml" <<EOF ... [metadata] $(deb_metadata) EOF             # key, distro, installed
#   printf '[types]\ncache = true\n' >"$layers/apt-cache.toml"
#   deb_activate "$layers/tools"       # its PATH, LD_LIBRARY_PATH … for the rest of this script
#
# deb_layer reuses a cached layer (same packages and key, lists less than a day old: no network), or
# refreshes the lists and keeps it if apt would install the same versions, or (re)installs it:
#   deb_install <layer dir> <apt cache dir> <package>...   # = the three steps below
#   deb_setup <apt cache dir>     # target distro → suites; private apt config; `apt-get update` if stale
#   deb_resolve <package>...      # what apt would install on the RUN image → DEB_PLAN / DEB_PLAN_IDS
#   deb_extract <layer dir>       # download DEB_PLAN, unpack it into the layer, write the layer's env
#
# How: apt runs with its own configuration (APT_CONFIG, under the cache dir): its lists, state and
# downloaded packages (one archive folder per layer) live in the cache dir — give it a cache layer, so
# they come back next build. The sources are the target distribution's (CNB_TARGET_DISTRO_NAME/VERSION:
# debian 12 → bookworm, bookworm-updates and bookworm-security), signed-by the Debian archive keyring;
# any other distribution is refused. The dpkg status apt resolves against is the RUN image's
# (/cnb/toolforge/run-image-dpkg-status in Toolforge builders), so exactly what the run image lacks is
# installed. Packages are downloaded only (`apt-get install --download-only`, which checks them against
# the signed indexes) and only their data is extracted (`dpkg-deb --fsys-tarfile | tar -x
# --keep-directory-symlink`, which, unlike `dpkg-deb -x`, writes /bin/x through the layer's bin → usr/bin
# link): no maintainer scripts run. What they would
# have done that matters in an image is done here: merged /usr (bin → usr/bin, lib → usr/lib …), literal
# update-alternatives links, absolute symlinks into the layer made relative, `#!/usr/bin/<interpreter>`
# of interpreters found in layers turned into `#!/usr/bin/env <interpreter>`. Docs, manuals and
# translations are left out (copyright files stay). The layer gets env files: PATH, LD_LIBRARY_PATH,
# PERL5LIB (build and launch), LIBRARY_PATH, CPATH, PKG_CONFIG_PATH (build), and a dpkg status fragment
# of its packages in <layer>/.toolforge/dpkg-status.
#
# Results: DEB_CODENAME (e.g. bookworm), DEB_PLAN ("name version arch" lines, by name), DEB_PLAN_IDS and
# DEB_INSTALLED ("name=version", by name), DEB_KEY and DEB_REUSED (deb_layer). `deb_toml_list` prints
# DEB_INSTALLED as a TOML array; `deb_metadata` the lines for a layer's [metadata]. On failure the
# functions return non-zero and apt's own error lines are the last lines printed: callers should exit
# without printing more (and send stderr to stdout, `exec 2>&1`, so the order holds).
#
# Settings (environment):
#   DEB_EXCLUDE          packages never installed unless asked for by name: what only maintainer scripts
#                        use (default: dpkg debconf ucf install-info adduser init-system-helpers usrmerge
#                        usr-is-merged). They are declared "installed" to apt, as in the stacks.
#   DEB_EXTRA_STATUS     more dpkg status files to resolve on top of (e.g. another layer's
#                        .toolforge/dpkg-status: its packages are not installed again)
#   DEB_MIRROR           default http://deb.debian.org/debian
#   DEB_SECURITY_MIRROR  default http://deb.debian.org/debian-security
#   DEB_REFRESH=1        run `apt-get update` even when the lists are less than a day old
#   DEB_RUN_STATUS       the run image's dpkg status (default /cnb/toolforge/run-image-dpkg-status; without
#                        it, the build image's /var/lib/dpkg/status, with a warning)

# Part of the cache keys of the buildpacks that use this file: bump it when what gets installed changes.
# shellcheck disable=SC2034
DEB_SH_VERSION=1
DEB_CODENAME=""
DEB_PLAN=()
DEB_PLAN_IDS=()
DEB_INSTALLED=()
DEB_MULTIARCH=""
DEB_APT_LOG=""
DEB_TMP=""
DEB_KEY=""
DEB_REUSED=0
: "${DEB_EXCLUDE:=dpkg debconf ucf install-info adduser init-system-helpers usrmerge usr-is-merged}"
: "${DEB_MIRROR:=http://deb.debian.org/debian}"
: "${DEB_SECURITY_MIRROR:=http://deb.debian.org/debian-security}"
: "${DEB_RUN_STATUS:=/cnb/toolforge/run-image-dpkg-status}"

# Print a failure: our explanation first, then apt's output, so apt's error lines come last.
deb__fail_with_log() {
  local what=$1 log=$2
  echo "$what"
  if [[ -s "$log" ]]; then
    # Progress lines first, then warnings and errors (apt prints them on stderr, which may interleave).
    # (apt-get's "only a simulation" notice is noise here: it runs as a user on purpose.)
    grep -Ev '^(E|W|N): ' "$log" | grep -Ev '^(Reading|Building|Get:|Hit:|Ign:|Fetched)' |
      grep -Ev '^(NOTE: This is only a simulation|        (apt-get needs root|Keep also in mind|so don.t depend))' |
      tail -n 8 || true
    grep -E '^(W|N): ' "$log" | tail -n 5 || true
    grep -E '^E: ' "$log" || true
  fi
}

# 1. THE TARGET: CNB_TARGET_DISTRO_NAME/VERSION (the run image's io.buildpacks.base.distro.* labels).
deb_target() {
  local name=${CNB_TARGET_DISTRO_NAME:-} version=${CNB_TARGET_DISTRO_VERSION:-}
  if [[ "$name" != debian ]]; then
    echo "This buildpack installs Debian packages, so it needs a Debian run image (Debian 12 \"bookworm\")."
    echo "The run image here is '${name:-unknown} ${version:-?}' (CNB_TARGET_DISTRO_NAME=${name:-<unset>}, CNB_TARGET_DISTRO_VERSION=${version:-<unset>}): refusing to install Debian packages on it."
    return 1
  fi
  case $version in
    11 | 11.*) DEB_CODENAME=bullseye ;;
    12 | 12.*) DEB_CODENAME=bookworm ;;
    13 | 13.*) DEB_CODENAME=trixie ;;
    *)
      echo "This buildpack knows Debian 11 (bullseye), 12 (bookworm) and 13 (trixie); the run image is Debian '${version:-<unset>}' (CNB_TARGET_DISTRO_VERSION): refusing to guess its suites."
      return 1
      ;;
  esac
  case ${CNB_TARGET_ARCH:-amd64} in
    amd64) DEB_MULTIARCH=x86_64-linux-gnu ;;
    arm64) DEB_MULTIARCH=aarch64-linux-gnu ;;
    *)
      echo "Unsupported architecture '${CNB_TARGET_ARCH}' (CNB_TARGET_ARCH): this buildpack knows amd64 and arm64."
      return 1
      ;;
  esac
}

# Architecture name Debian uses for the target.
deb__arch() { echo "${CNB_TARGET_ARCH:-amd64}"; }

# 2. A PRIVATE APT: configuration, state, lists and archives under the cache dir.
deb_apt_config() {
  local cache=$1 keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -f "$keyring" ]] || keyring=/usr/share/keyrings/debian-archive-keyring.pgp
  if [[ ! -f "$keyring" ]]; then
    echo "The Debian archive keyring is missing from the build image (/usr/share/keyrings/debian-archive-keyring.gpg): cannot verify packages."
    return 1
  fi
  DEB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/deb-sh.XXXXXX")
  mkdir -p "$cache/etc/empty" "$cache/lists/partial" "$cache/archives/partial" "$cache/state" "$cache/log"
  local signed="[signed-by=$keyring]"
  {
    echo "deb $signed $DEB_MIRROR $DEB_CODENAME main"
    echo "deb $signed $DEB_MIRROR $DEB_CODENAME-updates main"
    echo "deb $signed $DEB_SECURITY_MIRROR $DEB_CODENAME-security main"
  } >"$cache/etc/sources.list"
  cat >"$cache/etc/apt.conf" <<APT
// Written by Toolforge's deb.sh: apt as an unprivileged user, nothing of the system's apt configuration.
Dir::Etc "$cache/etc";
Dir::Etc::SourceList "$cache/etc/sources.list";
Dir::Etc::SourceParts "$cache/etc/empty";
Dir::Etc::Parts "$cache/etc/empty";
Dir::Etc::Preferences "$cache/etc/empty/preferences";
Dir::Etc::PreferencesParts "$cache/etc/empty";
Dir::Etc::TrustedParts "$cache/etc/empty";
Dir::Etc::Trusted "$cache/etc/empty/trusted.gpg";
Dir::State "$cache/state";
Dir::State::Lists "$cache/lists";
Dir::State::status "$cache/state/status";
Dir::Cache "$cache";
Dir::Cache::Archives "$cache/archives";
Dir::Cache::pkgcache "$DEB_TMP/pkgcache.bin";
Dir::Cache::srcpkgcache "";
Dir::Log "$cache/log";
Debug::NoLocking "true";
APT::Sandbox::User "";
APT::Architecture "$(deb__arch)";
APT::Architectures { "$(deb__arch)"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::Get::Assume-Yes "true";
APT::Get::AllowUnauthenticated "false";
APT::Color "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order { "gz"; };
Acquire::Retries "3";
Acquire::http::Timeout "30";
quiet "1";
APT
  export APT_CONFIG="$cache/etc/apt.conf"
  DEB_APT_LOG="$cache/log/apt-output.txt"
}

# The dpkg status apt resolves against: the run image's, plus DEB_EXCLUDE packages declared installed.
deb__status() {
  local cache=$1 status=$DEB_RUN_STATUS
  if [[ ! -f "$status" ]]; then
    echo "Warning: $status is missing (not a Toolforge builder?): resolving against the BUILD image's packages;"
    echo "  packages the build image has and the run image lacks will be missing at run time."
    status=/var/lib/dpkg/status
  fi
  cp "$status" "$cache/state/status"
  echo >>"$cache/state/status"
  # Packages other layers already bring (their .toolforge/dpkg-status, see deb_extract).
  local extra
  for extra in ${DEB_EXTRA_STATUS:-}; do
    [[ -f "$extra" ]] && cat "$extra" >>"$cache/state/status" && echo >>"$cache/state/status"
  done
  return 0
}

deb__exclude_stanzas() {
  local cache=$1 requested=" $2 " pkg wanted=()
  for pkg in $DEB_EXCLUDE; do
    [[ "$requested" == *" $pkg "* ]] && continue
    grep -qx "Package: $pkg" "$cache/state/status" && continue
    wanted+=("$pkg")
  done
  ((${#wanted[@]})) || return 0
  # One stanza per package (the candidate), reduced to what apt needs to consider it installed.
  { apt-cache show --no-all-versions -- "${wanted[@]}" 2>/dev/null || true; } |
    awk '
      /^Package: / { printf "%s\nStatus: install ok installed\nMaintainer: Toolforge deb.sh <not-installed@invalid>\nDescription: not installed: only maintainer scripts use it (deb.sh DEB_EXCLUDE)\n", $0; next }
      /^(Priority|Section|Architecture|Multi-Arch|Version|Provides):/ { print; next }
      /^$/ { print ""; next }
    ' >>"$cache/state/status"
  echo >>"$cache/state/status"
}

# 3. INDEXES: `apt-get update` when the lists are missing, more than a day old, or for other sources.
deb_apt_update() {
  local cache=$1 stamp=$1/lists/.toolforge-updated sources
  sources=$(sha256sum <"$cache/etc/sources.list" | cut -d' ' -f1)
  if deb__lists_fresh "$cache"; then
    echo "Package lists of $DEB_CODENAME are less than a day old: not updating them"
    return 0
  fi
  echo "Updating the package lists of $DEB_CODENAME, $DEB_CODENAME-updates, $DEB_CODENAME-security"
  rm -f "$stamp"
  if ! apt-get update >"$DEB_APT_LOG" 2>&1 || grep -q '^[EW]: Failed to fetch' "$DEB_APT_LOG"; then
    deb__fail_with_log "apt-get update failed (mirrors: $DEB_MIRROR, $DEB_SECURITY_MIRROR):" "$DEB_APT_LOG"
    return 1
  fi
  echo "$sources" >"$stamp"
}

# setup = target + config + update.
deb_setup() {
  local cache=$1
  deb_target || return 1
  deb_apt_config "$cache" || return 1
  deb__status "$cache"
  deb_apt_update "$cache" || return 1
}

# 4. RESOLUTION: what `apt-get install` would install on the run image.
deb_resolve() {
  local cache=${APT_CONFIG%/etc/apt.conf} line re name version arch old
  re='^Inst ([^ ]+) (\[[^]]*\] )?\(([^ ]+) .*\[([^]]+)\]\)'
  DEB_PLAN=()
  DEB_PLAN_IDS=()
  deb__status "$cache" >/dev/null
  deb__exclude_stanzas "$cache" "$*"
  if ! apt-get install --simulate --no-install-recommends -- "$@" >"$DEB_APT_LOG" 2>&1; then
    deb__fail_with_log "apt cannot install: $*" "$DEB_APT_LOG"
    return 1
  fi
  if grep -q '^Remv ' "$DEB_APT_LOG"; then
    deb__fail_with_log "Installing $* would need apt to remove packages of the run image, which is not possible:" "$DEB_APT_LOG"
    grep '^Remv ' "$DEB_APT_LOG"
    echo "E: conflicts with the run image's packages"
    return 1
  fi
  while IFS= read -r line; do
    [[ "$line" =~ $re ]] || continue
    name=${BASH_REMATCH[1]}
    version=${BASH_REMATCH[3]}
    arch=${BASH_REMATCH[4]}
    DEB_PLAN+=("$name $version $arch")
    DEB_PLAN_IDS+=("$name=$version")
    # A newer version of a run image package goes into the layer and wins through LD_LIBRARY_PATH/PATH.
    if [[ -n "${BASH_REMATCH[2]}" ]]; then
      old=${BASH_REMATCH[2]#[}
      echo "Note: $name $version is newer than the run image's ${old%%]*} and shadows it from the layer"
    fi
  done < <(grep '^Inst ' "$DEB_APT_LOG" | LC_ALL=C sort)
  mapfile -t DEB_PLAN < <(printf '%s\n' "${DEB_PLAN[@]}" | LC_ALL=C sort -u | sed '/^$/d')
  mapfile -t DEB_PLAN_IDS < <(printf '%s\n' "${DEB_PLAN_IDS[@]}" | LC_ALL=C sort -u | sed '/^$/d')
  local already
  already=$(grep -E 'is already the newest version' "$DEB_APT_LOG" | sed -E 's/ is already the newest version.*//' | tr '\n' ' ')
  [[ -n "$already" ]] && echo "Already in the run image: ${already% }"
  return 0
}

# The archive file name apt gives a package (epoch colon quoted).
deb__filename() {
  local name=$1 version=$2 arch=$3
  echo "${name}_${version//:/%3a}_${arch}.deb"
}

# Relative path from directory $1 to path $2 (both absolute, no symlink resolution).
deb__relpath() {
  realpath -ms --relative-to="$1" "$2"
}

# update-alternatives calls a postinst makes with literal arguments: link name path priority.
deb__alternatives() {
  local deb=$1
  dpkg-deb --ctrl-tarfile "$deb" 2>/dev/null | tar -xO ./postinst 2>/dev/null |
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
    grep -E 'update-alternatives[[:space:]].*--install' |
    grep -v '\$' |
    sed -E 's/.*--install[[:space:]]+([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+([0-9]+).*/\1 \2 \3 \4/' |
    grep -E '^/[^ ]+ [^ ]+ /[^ ]+ [0-9]+$' || true
}

# 5. DOWNLOAD AND EXTRACT DEB_PLAN into the layer (emptied first), then write its env files.
deb_extract() {
  local layer=$1 cache=${APT_CONFIG%/etc/apt.conf} entry name version arch file
  DEB_INSTALLED=()
  mkdir -p "$layer"
  # Empty the layer (read-only folders some packages ship would stop rm).
  chmod -R u+w "$layer" 2>/dev/null || true
  find "$layer" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  mkdir -p "$layer/env"
  if ((${#DEB_PLAN[@]} == 0)); then
    echo "Nothing to install: the run image has every package"
    return 0
  fi
  # One archive folder per layer, so that pruning it (below) keeps what other layers use.
  local archives="$cache/archives/${layer##*/}"
  mkdir -p "$archives/partial"
  echo "Downloading ${#DEB_PLAN[@]} package(s) (cached ones are reused)"
  if ! apt-get install --download-only --no-install-recommends -o Dir::Cache::Archives="$archives" \
    -- "${DEB_PLAN_IDS[@]}" >"$DEB_APT_LOG" 2>&1; then
    deb__fail_with_log "Downloading the packages failed:" "$DEB_APT_LOG"
    return 1
  fi
  grep -E '^Fetched ' "$DEB_APT_LOG" || true

  # Merged /usr, as Debian 12 installs: packages' /bin, /lib … paths land under usr/.
  mkdir -p "$layer/usr/bin" "$layer/usr/sbin" "$layer/usr/lib"
  ln -s usr/bin "$layer/bin"
  ln -s usr/sbin "$layer/sbin"
  ln -s usr/lib "$layer/lib"
  local alts="$cache/state/alternatives.txt"
  : >"$alts"
  for entry in "${DEB_PLAN[@]}"; do
    read -r name version arch <<<"$entry"
    file="$archives/$(deb__filename "$name" "$version" "$arch")"
    if [[ ! -f "$file" ]]; then
      echo "Downloaded package file for $name $version is missing ($file)"
      echo "E: cannot find the downloaded $name package"
      return 1
    fi
    if ! dpkg-deb --fsys-tarfile "$file" |
      tar -x -C "$layer" --keep-directory-symlink --no-same-owner --warning=no-timestamp \
        --exclude=./usr/share/man --exclude=./usr/share/info --exclude=./usr/share/lintian \
        --exclude=./usr/share/locale --exclude=./usr/share/bug --exclude=./usr/share/doc-base; then
      echo "E: cannot extract $file"
      return 1
    fi
    deb__alternatives "$file" >>"$alts"
    DEB_INSTALLED+=("$name=$version")
    echo "  + $name $version"
  done
  mapfile -t DEB_INSTALLED < <(printf '%s\n' "${DEB_INSTALLED[@]}" | LC_ALL=C sort)
  chmod -R u+w "$layer"
  # Documentation goes, licences stay (they must travel with the binaries).
  if [[ -d "$layer/usr/share/doc" ]]; then
    find "$layer/usr/share/doc" -mindepth 2 ! -type d ! -name copyright -delete
    find "$layer/usr/share/doc" -mindepth 1 -type d -empty -delete
  fi

  deb__fix_links "$layer" "$alts"
  deb__fix_shebangs "$layer"
  deb_write_env "$layer"
  deb__write_status "$layer"
  # Only what this build needs stays in the archive cache.
  local keep=" "
  for entry in "${DEB_PLAN[@]}"; do
    read -r name version arch <<<"$entry"
    keep+="$(deb__filename "$name" "$version" "$arch") "
  done
  for file in "$archives"/*.deb; do
    [[ -e "$file" ]] || continue
    [[ "$keep" == *" ${file##*/} "* ]] || rm -f "$file"
  done
}

# Absolute symlinks into the layer become relative; alternatives (highest priority first) get their link.
deb__fix_links() {
  local layer=$1 alts=$2 link target link_name name path prio
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    if [[ -e "$layer$target" || -L "$layer$target" ]]; then
      ln -sfn "$(deb__relpath "$(dirname "$link")" "$layer$target")" "$link"
    fi
  done < <(find "$layer" -type l -lname '/*' -print0)
  local done_names=" "
  while read -r link_name name path prio; do
    [[ -n "$link_name" ]] || continue
    [[ "$done_names" == *" $name "* ]] && continue
    [[ -e "$layer$path" ]] || continue
    [[ -e "$layer$link_name" || -L "$layer$link_name" ]] && continue
    mkdir -p "$(dirname "$layer$link_name")"
    ln -s "$(deb__relpath "$(dirname "$layer$link_name")" "$layer$path")" "$layer$link_name"
    done_names+="$name "
    echo "  alternative: ${link_name} → ${path} (priority $prio)"
  done < <(sort -k4,4nr -k1,1 "$alts")
}

# Scripts whose interpreter is in a layer (#!/usr/bin/perl, #!/usr/bin/php …) find it on PATH instead.
deb__fix_shebangs() {
  local layer=$1 f first interp rest
  for f in "$layer"/usr/bin/* "$layer"/usr/sbin/* "$layer"/usr/games/*; do
    [[ -f "$f" && ! -L "$f" ]] || continue
    IFS= read -r first <"$f" 2>/dev/null || continue
    [[ "$first" =~ ^\#!(/usr/bin/|/bin/)([A-Za-z0-9._+-]+)([[:space:]]+(.*))?$ ]] || continue
    interp=${BASH_REMATCH[2]}
    rest=${BASH_REMATCH[4]}
    [[ "$interp" == env || "$interp" == sh || "$interp" == bash ]] && continue
    # Rewritten when the interpreter is in this layer, or is not at that path here (another layer's).
    [[ -x "$layer/usr/bin/$interp" || ! -e "/usr/bin/$interp" ]] || continue
    if [[ -n "$rest" ]]; then first="#!/usr/bin/env -S $interp $rest"; else first="#!/usr/bin/env $interp"; fi
    sed -i "1s|.*|$first|" "$f"
  done
}

# A dpkg status fragment listing the layer's packages: other layers can resolve on top (DEB_EXTRA_STATUS).
deb__write_status() {
  local layer=$1
  mkdir -p "$layer/.toolforge"
  ((${#DEB_INSTALLED[@]})) || { : >"$layer/.toolforge/dpkg-status"; return 0; }
  { apt-cache show -- "${DEB_INSTALLED[@]}" 2>/dev/null || true; } |
    awk '
      /^Package: / { print; print "Status: install ok installed"; next }
      /^(Priority|Section|Architecture|Multi-Arch|Source|Version|Replaces|Provides|Depends|Pre-Depends|Breaks|Conflicts|Essential):/ { keep = 1; print; next }
      /^ / { if (keep) print; next }
      /^$/ { print "Maintainer: Debian (installed by Toolforge deb.sh)"; print "Description: installed into this layer"; print ""; keep = 0; next }
      { keep = 0 }
    ' >"$layer/.toolforge/dpkg-status"
}

# Env files: PATH, LD_LIBRARY_PATH at build and launch; compiler paths at build only.
deb_write_env() {
  local layer=$1 d paths=() libs=() conf line
  mkdir -p "$layer/env" "$layer/env.build"
  for d in usr/local/bin usr/bin usr/sbin usr/games; do
    [[ -d "$layer/$d" ]] && [[ -n "$(ls -A "$layer/$d")" ]] && paths+=("$layer/$d")
  done
  for d in "usr/lib/$DEB_MULTIARCH" usr/lib; do
    [[ -d "$layer/$d" ]] && compgen -G "$layer/$d/*.so*" >/dev/null && libs+=("$layer/$d")
  done
  # Folders packages register with the dynamic loader (what their ldconfig trigger would have done).
  for conf in "$layer"/etc/ld.so.conf.d/*.conf; do
    [[ -f "$conf" ]] || continue
    while IFS= read -r line; do
      line=${line%%#*}
      line=${line//[[:space:]]/}
      [[ "$line" == /* && -d "$layer$line" ]] && libs+=("$layer$line")
    done <"$conf"
  done
  if ((${#paths[@]})); then
    (IFS=:; printf '%s' "${paths[*]}") >"$layer/env/PATH.prepend"
    printf ':' >"$layer/env/PATH.delim"
  fi
  if ((${#libs[@]})); then
    (IFS=:; printf '%s' "${libs[*]}") >"$layer/env/LD_LIBRARY_PATH.prepend"
    printf ':' >"$layer/env/LD_LIBRARY_PATH.delim"
    (IFS=:; printf '%s' "${libs[*]}") >"$layer/env.build/LIBRARY_PATH.prepend"
    printf ':' >"$layer/env.build/LIBRARY_PATH.delim"
  fi
  # Perl modules (Debian's perl looks for them under /usr only).
  local perl=()
  for d in "$layer/usr/lib/$DEB_MULTIARCH/perl5/"[0-9]* "$layer/usr/share/perl5" "$layer/usr/lib/$DEB_MULTIARCH/perl-base" \
    "$layer/usr/lib/$DEB_MULTIARCH/perl/"[0-9]* "$layer/usr/share/perl/"[0-9]*; do
    [[ -d "$d" && ! -L "$d" ]] && perl+=("$d")
  done
  if ((${#perl[@]})); then
    (IFS=:; printf '%s' "${perl[*]}") >"$layer/env/PERL5LIB.prepend"
    printf ':' >"$layer/env/PERL5LIB.delim"
  fi
  local inc=() pc=()
  for d in usr/include "usr/include/$DEB_MULTIARCH"; do [[ -d "$layer/$d" ]] && inc+=("$layer/$d"); done
  for d in "usr/lib/$DEB_MULTIARCH/pkgconfig" usr/lib/pkgconfig usr/share/pkgconfig; do
    [[ -d "$layer/$d" ]] && pc+=("$layer/$d")
  done
  if ((${#inc[@]})); then
    (IFS=:; printf '%s' "${inc[*]}") >"$layer/env.build/CPATH.prepend"
    printf ':' >"$layer/env.build/CPATH.delim"
  fi
  if ((${#pc[@]})); then
    (IFS=:; printf '%s' "${pc[*]}") >"$layer/env.build/PKG_CONFIG_PATH.prepend"
    printf ':' >"$layer/env.build/PKG_CONFIG_PATH.delim"
  fi
  rmdir "$layer/env.build" 2>/dev/null || true
}

# Everything: setup, resolve, extract.
deb_install() {
  local layer=$1 cache=$2
  shift 2
  deb_setup "$cache" || return 1
  deb_resolve "$@" || return 1
  deb_extract "$layer" || return 1
}

# A cached layer: reuse it, check it, or (re)install it.
#   deb_layer <layer dir> <apt cache dir> <salt> <package>...
# The layer is reused as is when its <layer>.toml has the same key (packages asked for, distro, this
# file's version, the salt) and the package lists were refreshed less than a day ago — no network at all.
# With older lists they are refreshed first, and the layer is kept if apt would install exactly the same
# versions (else reinstalled: security updates arrive within a day). Sets DEB_KEY, DEB_INSTALLED and
# DEB_REUSED (1 when kept). Write the layer's toml afterwards, with deb_metadata in its [metadata].
deb_layer() {
  local layer=$1 cache=$2 salt=$3 extra sum
  shift 3
  DEB_REUSED=0
  deb_target || return 1
  sum="$salt|$*|$DEB_SH_VERSION|$DEB_CODENAME|$DEB_EXCLUDE|$DEB_MIRROR|$DEB_SECURITY_MIRROR"
  for extra in ${DEB_EXTRA_STATUS:-}; do
    [[ -f "$extra" ]] && sum+="|$(sha256sum <"$extra" | cut -d' ' -f1)"
  done
  DEB_KEY=$(printf '%s' "$sum" | sha256sum | cut -d' ' -f1)
  if [[ -d "$layer" && -f "$layer.toml" && "$(deb_toml_get "$layer.toml" key)" == "$DEB_KEY" ]]; then
    mapfile -t DEB_INSTALLED < <(deb_toml_get_list "$layer.toml" installed)
    deb_apt_config "$cache" || return 1
    if deb__lists_fresh "$cache"; then
      echo "Reusing the cached ${layer##*/} layer: same packages, lists checked less than a day ago (${#DEB_INSTALLED[@]} packages)"
      DEB_REUSED=1
      return 0
    fi
    deb__status "$cache"
    deb_apt_update "$cache" || return 1
    deb_resolve "$@" || return 1
    if [[ "$(printf '%s\n' "${DEB_PLAN_IDS[@]}" | LC_ALL=C sort)" == "$(printf '%s\n' "${DEB_INSTALLED[@]}" | LC_ALL=C sort)" ]]; then
      echo "Reusing the cached ${layer##*/} layer: no newer package versions (${#DEB_INSTALLED[@]} packages)"
      DEB_REUSED=1
      return 0
    fi
    echo "Newer package versions: reinstalling the ${layer##*/} layer"
    comm -13 <(printf '%s\n' "${DEB_INSTALLED[@]}" | LC_ALL=C sort) <(printf '%s\n' "${DEB_PLAN_IDS[@]}" | LC_ALL=C sort) |
      sed 's/^/  now: /' || true
    deb_extract "$layer" || return 1
    return 0
  fi
  deb_install "$layer" "$cache" "$@"
}

deb__lists_fresh() {
  local cache=$1 stamp=$1/lists/.toolforge-updated
  [[ "${DEB_REFRESH:-}" != 1 && -f "$stamp" ]] || return 1
  [[ "$(cat "$stamp")" == "$(sha256sum <"$cache/etc/sources.list" | cut -d' ' -f1)" ]] || return 1
  [[ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ]]
}

# `key = "value"` of a TOML file (our own simple files).
deb_toml_get() {
  sed -nE "s/^$2 = \"([^\"]*)\"\$/\1/p" "$1" | head -n 1
}

# The strings of `key = [ "a", "b" ]`, one per line.
deb_toml_get_list() {
  sed -nE "s/^$2 = \[(.*)\]\$/\1/p" "$1" | head -n 1 | grep -oE '"[^"]*"' | tr -d '"' || true
}

# Lines for a layer's [metadata]: key, distro, installed packages.
deb_metadata() {
  echo "key = \"$DEB_KEY\""
  echo "distro = \"${CNB_TARGET_DISTRO_NAME:-} ${CNB_TARGET_DISTRO_VERSION:-} ($DEB_CODENAME)\""
  echo "installed = $(deb_toml_list)"
}

# Make the layer's programs usable by the rest of this build script (its env files, applied here).
deb_activate() {
  local layer=$1 f name
  for f in "$layer"/env/*.prepend; do
    [[ -f "$f" ]] || continue
    name=${f##*/}
    name=${name%.prepend}
    export "$name=$(cat "$f")${!name:+:${!name}}"
  done
}

# DEB_INSTALLED as a TOML array of strings.
deb_toml_list() {
  local first=1 p
  printf '['
  for p in "${DEB_INSTALLED[@]}"; do
    ((first)) || printf ', '
    first=0
    printf '"%s"' "${p//\"/}"
  done
  printf ']'
}
